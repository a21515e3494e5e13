using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>
/// A deleted dataset takes with it the runs its deleter agreed to delete (with Cascade; each with its checkpoints,
/// metrics and model versions, a training one once its trainer has stopped). Any other run on it, created after that
/// list was made or without Cascade, is cancelled, never deleted: what is left of it is its owner's to remove. The
/// projection stays Deleted, so late events and new runs find it gone.
/// </summary>
public sealed class DatasetDeletedConsumer(TrainingDbContext db, RunDeletion deletion,
    ILogger<DatasetDeletedConsumer> logger)
    : IConsumer<DatasetDeleted>
{
    public async Task Consume(ConsumeContext<DatasetDeleted> context)
    {
        foreach (var id in await SettleRunsAsync(context.Message, context.CancellationToken))
            deletion.RemoveFiles(id);
    }

    /// <summary>Marks the projection Deleted and deletes or cancels the dataset's runs, in one transaction; answers
    /// the runs deleted now, whose files go once it has committed.</summary>
    public async Task<List<Guid>> SettleRunsAsync(DatasetDeleted m, CancellationToken cancellationToken)
    {
        var deletedNow = new List<Guid>();
        await DatasetProjection.UpdateAsync(db, m.DatasetId, async dataset =>
        {
            dataset.Status = DatasetStatus.Deleted;
            dataset.UpdatedAt = m.DeletedAt;
            // Row locks, so no worker claims or starts one of these runs between this read and the commit: each
            // decision below is made on the run as it is (a run a worker started meanwhile is read as Training).
            var runs = await db.Runs.FromSqlInterpolated($"""
                SELECT * FROM training.runs WHERE "DatasetId" = {m.DatasetId} AND "State" <> 'Deleted' FOR UPDATE
                """).ToListAsync(cancellationToken);
            foreach (var run in runs)
            {
                if (m.Cascade && (m.Runs is null || m.Runs.Contains(run.Id)))
                {
                    if (await deletion.DeleteOrScheduleAsync(run, cancellationToken))
                        deletedNow.Add(run.Id);
                }
                else if (!run.IsFinished && run.State != RunState.Evaluating)
                {
                    run.RequestCancel();
                    logger.LogInformation("run {RunId} cancelled: its dataset {DatasetId} was deleted", run.Id,
                        m.DatasetId);
                }
            }
        }, cancellationToken);
        return deletedNow;
    }
}
