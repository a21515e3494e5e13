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
        var m = context.Message;
        var deletedNow = new List<Guid>();
        await DatasetProjection.UpdateAsync(db, m.DatasetId, async dataset =>
        {
            dataset.Status = DatasetStatus.Deleted;
            dataset.UpdatedAt = m.DeletedAt;
            var runs = await db.Runs.Where(r => r.DatasetId == m.DatasetId && r.State != RunState.Deleted)
                .ToListAsync(context.CancellationToken);
            foreach (var run in runs)
            {
                if (m.Cascade && (m.Runs is null || m.Runs.Contains(run.Id)))
                {
                    if (await deletion.DeleteOrScheduleAsync(run, context.CancellationToken))
                        deletedNow.Add(run.Id);
                }
                else if (!run.IsFinished && run.State != RunState.Evaluating)
                {
                    run.RequestCancel();
                    logger.LogInformation("run {RunId} cancelled: its dataset {DatasetId} was deleted", run.Id,
                        m.DatasetId);
                }
            }
        }, context.CancellationToken);
        foreach (var id in deletedNow)
            deletion.RemoveFiles(id);
    }
}
