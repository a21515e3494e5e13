using Evaluation.Data;
using Evaluation.Scoring;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Reliability;

namespace Evaluation.Consumers;

/// <summary>
/// Evaluating gave up after its retries (a database or storage error, a bug): the evaluation is recorded Failed with
/// the reason and announced, so the run ends Failed instead of Evaluating for ever. An evaluation recorded meanwhile
/// wins.
/// </summary>
public sealed class TrainingCompletedFaultConsumer(EvaluationDbContext db,
    ILogger<TrainingCompletedFaultConsumer> logger)
    : IConsumer<Fault<TrainingCompleted>>
{
    public async Task Consume(ConsumeContext<Fault<TrainingCompleted>> context)
    {
        var fault = context.Message;
        var trained = fault.Message;
        if (!fault.IsFromThisService())
            return;
        await db.ChangeUnderLockAsync(trained.RunId, async () =>
        {
            if (await db.DeletedRuns.AnyAsync(d => d.RunId == trained.RunId, context.CancellationToken)
                || await db.Evaluations.AnyAsync(e => e.RunId == trained.RunId && e.DatasetId == null,
                context.CancellationToken))
                return false;
            var record = EvaluationRecord.OfRun(trained);
            record.Fail(fault.Reason("Evaluating the checkpoint"));
            db.Evaluations.Add(record);
            EvaluationWorker.Announce(db, record);
            logger.LogWarning("Evaluating run {RunId} faulted after its retries; recorded as failed", trained.RunId);
            return true;
        }, context.CancellationToken);
    }
}
