using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>
/// A deleted dataset takes its runs with it: each is deleted (a training one when its trainer has stopped), with
/// its checkpoints, metrics and model versions. The projection stays Deleted, so late events and new runs find it gone.
/// </summary>
public sealed class DatasetDeletedConsumer(TrainingDbContext db, RunDeletion deletion) : IConsumer<DatasetDeleted>
{
    public async Task Consume(ConsumeContext<DatasetDeleted> context)
    {
        var m = context.Message;
        var deletedNow = new List<Guid>();
        await DatasetProjection.UpdateAsync(db, m.DatasetId, async dataset =>
        {
            dataset.Status = DatasetStatus.Deleted;
            dataset.UpdatedAt = m.DeletedAt;
            var runs = await db.Runs.Where(r => r.DatasetId == m.DatasetId && r.State != RunState.Deleted).ToListAsync(context.CancellationToken);
            foreach (var run in runs)
                if (await deletion.DeleteOrScheduleAsync(run, context.CancellationToken))
                    deletedNow.Add(run.Id);
        }, context.CancellationToken);
        foreach (var id in deletedNow)
            deletion.RemoveFiles(id);
    }
}
