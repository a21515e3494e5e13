using System.Diagnostics;
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
/// Evaluates a trained run once; a redelivery re-announces the recorded result. A run deleted before or while it
/// is scored gets no evaluation: the result is kept only if, under the run's lock, no deletion has been recorded.
/// </summary>
public sealed class TrainingCompletedConsumer(EvaluationDbContext db, CheckpointScorer scorer,
    ILogger<TrainingCompletedConsumer> logger)
    : IConsumer<TrainingCompleted>
{
    public async Task Consume(ConsumeContext<TrainingCompleted> context)
    {
        var trained = context.Message;
        if (await db.DeletedRuns.AnyAsync(d => d.RunId == trained.RunId, context.CancellationToken))
            return;
        var record = await db.Evaluations.AsNoTracking().FirstOrDefaultAsync(e => e.RunId == trained.RunId
            && e.DatasetId == null, context.CancellationToken);
        if (record is null)
        {
            record = EvaluationRecord.OfRun(trained);
            var clock = Stopwatch.StartNew();
            try
            {
                var (f, sample) = await scorer.ScoreAsync(EvaluationTarget.Of(trained), context.CancellationToken);
                record.Complete(f, sample);
                logger.LogInformation("run {RunId}: validation loss {Loss:F4}, perplexity {Ppl:F2}, {Bpb:F3} " +
                    "bits/byte, top-1 {Top1:P1}, top-5 {Top5:P1}, " +
                                      "macro recall {Recall:P1}, F1 {F1:P1}, ECE {Ece:F3}{Sequences}",
                    trained.RunId, f.Loss, f.Perplexity, f.BitsPerByte, f.Top1Accuracy, f.Top5Accuracy, f.MacroRecall,
                    f.MacroF1, f.ExpectedCalibrationError,
                    f.Bleu is { } bleu
                    ? $", BLEU {bleu:F2} ({f.BleuTokenize}), chrF {f.ChrF:F2}, exact match {f.ExactMatch:P1} of " +
                    $"{f.PairsEvaluated} pairs" : "");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Evaluating run {RunId} failed", trained.RunId);
                record.Fail(PublicReason.Of(ex.GetBaseException()));
            }
            record.DurationMilliseconds = clock.ElapsedMilliseconds;

            await db.ChangeUnderLockAsync(trained.RunId, async () =>
            {
                if (await db.DeletedRuns.AnyAsync(d => d.RunId == trained.RunId, context.CancellationToken))
                    return false;
                db.Evaluations.Add(record);
                Announce(record);
                return true;
            }, context.CancellationToken);
            return;
        }

        Announce(record);
        await db.SaveChangesAsync(context.CancellationToken);
    }

    private void Announce(EvaluationRecord record)
    {
        db.PublishViaOutbox<object>(record.State == EvaluationState.Completed
            ? new EvaluationCompleted(record.RunId, record.Id, record.Figures(), record.Sample, DateTimeOffset.UtcNow)
            : new EvaluationFailed(record.RunId, record.FailureReason ?? "unknown error", DateTimeOffset.UtcNow));
    }

}
