using Evaluation.Data;
using Evaluation.Scoring;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Persistence;

namespace Evaluation.Consumers;

/// <summary>
/// Queues a trained run's own evaluation for the <see cref="EvaluationWorker"/>, which scores it as it scores any:
/// the delivery is not held while a model is scored. A redelivery finds the evaluation and, once it has ended,
/// announces its result again; a run deleted first gets none.
/// </summary>
public sealed class TrainingCompletedConsumer(EvaluationDbContext db, EvaluationWorker worker)
    : IConsumer<TrainingCompleted>
{
    public async Task Consume(ConsumeContext<TrainingCompleted> context)
    {
        var trained = context.Message;
        var queued = await db.ChangeUnderLockAsync(trained.RunId, async () =>
        {
            if (await db.DeletedRuns.AnyAsync(d => d.RunId == trained.RunId, context.CancellationToken))
                return false;
            var record = await db.Evaluations.FirstOrDefaultAsync(e => e.RunId == trained.RunId
                && e.DatasetId == null, context.CancellationToken);
            if (record is null)
                db.Evaluations.Add(EvaluationRecord.OfRun(trained));
            else if (record.State is EvaluationState.Completed or EvaluationState.Failed)
                EvaluationWorker.Announce(db, record);
            else
                return false;
            return true;
        }, context.CancellationToken);
        if (queued)
            worker.Wake();
    }
}
