using Platform.ServiceDefaults.Persistence;
using Training.Data;

namespace Training.Runs;

/// <summary>
/// Applies one dataset event to this service's projection: under the dataset's lock (see
/// <see cref="RunScheduler.LockDatasetAsync"/>), finds or creates the row, lets the caller change it and what
/// depends on it, and commits everything in one transaction.
/// </summary>
public static class DatasetProjection
{
    public static async Task UpdateAsync(TrainingDbContext db, Guid datasetId, Func<KnownDataset, Task> apply,
        CancellationToken cancellationToken)
    {
        await db.ChangeUnderLockAsync(datasetId, async () =>
        {
            var dataset = await db.Datasets.FindAsync([datasetId], cancellationToken);
            if (dataset is null)
                db.Datasets.Add(dataset = new KnownDataset
                {
                    Id = datasetId,
                    Status = DatasetStatus.Ingested,
                    UpdatedAt = DateTimeOffset.UtcNow
                });
            await apply(dataset);
            return true;
        }, cancellationToken);
    }
}
