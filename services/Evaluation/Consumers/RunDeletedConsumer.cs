using Evaluation.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Persistence;

namespace Evaluation.Consumers;

/// <summary>Removes a deleted run's evaluation (its sample is text the model wrote) and records the deletion.
/// Idempotent.</summary>
public sealed class RunDeletedConsumer(EvaluationDbContext db) : IConsumer<RunDeleted>
{
    public async Task Consume(ConsumeContext<RunDeleted> context)
    {
        var id = context.Message.RunId;
        await db.ChangeUnderLockAsync(id, async () =>
        {
            if (!await db.DeletedRuns.AnyAsync(d => d.RunId == id, context.CancellationToken))
                db.DeletedRuns.Add(new DeletedRun { RunId = id, DeletedAt = context.Message.DeletedAt });
            db.Evaluations.RemoveRange(await db.Evaluations.Where(e =>
                e.RunId == id).ToListAsync(context.CancellationToken));
            return true;
        }, context.CancellationToken);
    }
}
