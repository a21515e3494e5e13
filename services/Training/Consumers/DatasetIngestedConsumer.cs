using MassTransit;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>
/// Records the dataset in this service's projection and, when the upload asked for it, creates the
/// auto-train run. The run id was chosen at upload, so a redelivery finds the run and does nothing.
/// </summary>
public sealed class DatasetIngestedConsumer(TrainingDbContext db) : IConsumer<DatasetIngested>
{
    public async Task Consume(ConsumeContext<DatasetIngested> context)
    {
        var m = context.Message;
        await using var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken);
        await RunScheduler.LockDatasetAsync(db, m.DatasetId, context.CancellationToken);

        var dataset = await db.Datasets.FindAsync([m.DatasetId], context.CancellationToken);
        if (dataset is null)
        {
            // Tokenized may arrive first (separate queues): only create the row here, never downgrade it.
            dataset = new KnownDataset { Id = m.DatasetId, Name = m.Name, Status = DatasetStatus.Ingested, UpdatedAt = DateTimeOffset.UtcNow };
            db.Datasets.Add(dataset);
        }

        if (m.AutoTrain is { } auto && await db.Runs.FindAsync([auto.RunId], context.CancellationToken) is null)
        {
            var run = new Run
            {
                Id = auto.RunId,
                Name = auto.Spec.Name,
                DatasetId = m.DatasetId,
                Spec = auto.Spec,
                MaxSteps = auto.Spec.Training.MaxSteps,
                CreatedAt = DateTimeOffset.UtcNow,
            };
            db.Runs.Add(run);
            RunScheduler.Schedule(db, run, dataset);
        }

        await db.SaveChangesAsync(context.CancellationToken);
        await transaction.CommitAsync(context.CancellationToken);
    }
}
