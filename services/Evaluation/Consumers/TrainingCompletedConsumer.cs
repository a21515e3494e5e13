using System.Diagnostics;
using Evaluation.Data;
using Evaluation.Scoring;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;

namespace Evaluation.Consumers;

/// <summary>
/// Evaluates a trained run once; a redelivery re-announces the recorded result. A run deleted before or while it
/// is scored gets no evaluation: the result is kept only if, under the run's lock, no deletion has been recorded.
/// </summary>
public sealed class TrainingCompletedConsumer(EvaluationDbContext db, CheckpointScorer scorer, ILogger<TrainingCompletedConsumer> logger)
    : IConsumer<TrainingCompleted>
{
    public async Task Consume(ConsumeContext<TrainingCompleted> context)
    {
        var trained = context.Message;
        if (await db.DeletedRuns.AnyAsync(d => d.RunId == trained.RunId, context.CancellationToken))
            return;
        var record = await db.Evaluations.AsNoTracking().FirstOrDefaultAsync(e => e.RunId == trained.RunId, context.CancellationToken);
        if (record is null)
        {
            record = new EvaluationRecord
            {
                Id = Guid.NewGuid(),
                RunId = trained.RunId,
                ModelName = trained.ModelName,
                CheckpointKey = trained.CheckpointKey,
                CreatedAt = DateTimeOffset.UtcNow,
            };
            var clock = Stopwatch.StartNew();
            try
            {
                var (f, sample) = await scorer.ScoreAsync(trained, context.CancellationToken);
                record.State = EvaluationState.Completed;
                (record.Loss, record.Perplexity, record.BitsPerByte) = (f.Loss, f.Perplexity, f.BitsPerByte);
                (record.Top1Accuracy, record.Top5Accuracy, record.TokensEvaluated) = (f.Top1Accuracy, f.Top5Accuracy, f.TokensEvaluated);
                record.Sample = sample;
                logger.LogInformation("run {RunId}: validation loss {Loss:F4}, perplexity {Ppl:F2}, {Bpb:F3} bits/byte, top-1 {Top1:P1}, top-5 {Top5:P1}",
                    trained.RunId, f.Loss, f.Perplexity, f.BitsPerByte, f.Top1Accuracy, f.Top5Accuracy);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Evaluating run {RunId} failed", trained.RunId);
                record.State = EvaluationState.Failed;
                record.FailureReason = ex.GetBaseException().Message;
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
            ? new EvaluationCompleted(record.RunId, record.Id, Figures(record), record.Sample, DateTimeOffset.UtcNow)
            : new EvaluationFailed(record.RunId, record.FailureReason ?? "unknown error", DateTimeOffset.UtcNow));
    }

    internal static EvaluationFigures Figures(EvaluationRecord r) =>
        new(r.Loss ?? double.NaN, r.Perplexity ?? double.NaN, r.BitsPerByte ?? double.NaN, r.Top1Accuracy ?? 0, r.Top5Accuracy ?? 0, r.TokensEvaluated ?? 0);
}
