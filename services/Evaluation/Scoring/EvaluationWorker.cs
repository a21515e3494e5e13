using System.Diagnostics;
using Evaluation.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Messaging;
using Platform.Contracts;
using Platform.ServiceDefaults.Reliability;

namespace Evaluation.Scoring;

/// <summary>
/// Scores every evaluation, one at a time, oldest first: a run's own (queued by TrainingCompletedConsumer, on the
/// held-out split it trained beside) and those requested through the API (a version on a dataset, which Tokenization
/// encodes with the version's tokenizer first: see <see cref="EvaluationRecord.AwaitEncoding"/>). An evaluation is
/// claimed by moving it from Pending to Running in one conditional
/// update, so replicas never score one twice; one left Running by a worker that died is taken up again after
/// <see cref="EvaluationOptions.StaleMinutes"/>. Whatever goes wrong while scoring fails the evaluation with the
/// reason. A run's own result is announced (EvaluationCompleted or EvaluationFailed) with the save, unless the run was
/// deleted meanwhile, when it is dropped.
/// </summary>
public sealed class EvaluationWorker(IServiceScopeFactory scopes, CheckpointScorer scorer,
    IOptions<EvaluationOptions> options, ILogger<EvaluationWorker> logger) : BackgroundService
{
    /// <summary>The worker's trace source: scoring continues the trace of whoever queued the evaluation.</summary>
    public static readonly ActivitySource Source = new("Platform.Evaluation");

    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Look for work now instead of at the next poll.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    /// <summary>A run's own result, for the registry and Training, written with the record.</summary>
    public static void Announce(EvaluationDbContext db, EvaluationRecord record) =>
        db.PublishViaOutbox<object>(record.State == EvaluationState.Completed
            ? new EvaluationCompleted(record.RunId, record.Id, record.Figures!, record.Sample, DateTimeOffset.UtcNow)
            : new EvaluationFailed(record.RunId, record.FailureReason ?? "unknown error", DateTimeOffset.UtcNow));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(Math.Max(0.1, options.Value.PollSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!await ScoreNextAsync(stoppingToken))
                    await _wake.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The database being away must not end the worker: it looks again at the next poll.
                logger.LogWarning("Requested evaluations could not be looked at: {Error}",
                    ex.GetBaseException().Message);
                await Task.Delay(poll, stoppingToken);
            }
        }
    }

    private async Task<bool> ScoreNextAsync(CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<EvaluationDbContext>();
        var stale = DateTimeOffset.UtcNow.AddMinutes(-options.Value.StaleMinutes);
        var candidate = await db.Evaluations.AsNoTracking()
            .Where(e => e.State == EvaluationState.Pending
            || (e.State == EvaluationState.Running && e.StartedAt < stale))
            .OrderBy(e => e.CreatedAt).Select(e =>
            new { e.Id, e.State, e.StartedAt }).FirstOrDefaultAsync(stoppingToken);
        if (candidate is null)
            return false;
        var now = DateTimeOffset.UtcNow;
        var claimed = await db.Evaluations
            .Where(e => e.Id == candidate.Id && e.State == candidate.State && e.StartedAt == candidate.StartedAt)
            .ExecuteUpdateAsync(u =>
            u.SetProperty(e => e.State, EvaluationState.Running).SetProperty(e => e.StartedAt, now), stoppingToken);
        if (claimed == 0)
            return true; // another worker took it: look for the next one at once

        var record = await db.Evaluations.FirstAsync(e => e.Id == candidate.Id, stoppingToken);
        if (record.NeedsEncoding)
        {
            await RequestEncodingAsync(db, record, stoppingToken);
            return true;
        }
        using var activity = ActivityContext.TryParse(record.TraceParent, null, out var parent)
            ? Source.StartActivity("evaluate", ActivityKind.Internal, parent)
            : Source.StartActivity("evaluate");
        activity?.SetTag("evaluation.id", record.Id);
        var clock = Stopwatch.StartNew();
        try
        {
            var (figures, sample) = await scorer.ScoreAsync(record.Target(), stoppingToken);
            record.Complete(figures, sample);
            Log(record, figures);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The reason may quote the dataset's text, so it goes to the evaluation, and the log names only the error.
            logger.LogWarning("Evaluation {Id} of run {RunId} failed ({Error})", record.Id, record.RunId,
                ex.GetType().Name);
            record.Fail(PublicReason.Of(ex.GetBaseException()));
        }
        record.DurationMilliseconds = clock.ElapsedMilliseconds;
        try
        {
            // A run deleted meanwhile keeps no evaluation; its deletion removed the record already, or does now.
            await db.ChangeUnderLockAsync(record.RunId, async () =>
            {
                if (record.IsRunsOwn
                    && await db.DeletedRuns.AnyAsync(d => d.RunId == record.RunId, CancellationToken.None))
                {
                    db.Evaluations.Remove(record);
                    return true;
                }
                if (record.IsRunsOwn)
                    Announce(db, record);
                return true;
            }, CancellationToken.None);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Deleted meanwhile (its run, version or dataset went): nothing to save.
        }
        return true;
    }

    /// <summary>
    /// A requested evaluation's dataset is encoded by Tokenization, which owns every encoding: the evaluation waits in
    /// Encoding until DatasetEncoded (or DatasetEncodingFailed) comes back. It is asked for at once when the dataset is
    /// tokenized, or else by DatasetTokenizedConsumer when it is; both under the dataset's lock, so neither misses the
    /// other.
    /// </summary>
    private static async Task RequestEncodingAsync(EvaluationDbContext db, EvaluationRecord record,
        CancellationToken stoppingToken)
    {
        try
        {
            await db.ChangeUnderLockAsync(record.DatasetId!.Value, async () =>
            {
                var version = await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Name == record.ModelName
                    && v.Version == record.ModelVersion, stoppingToken);
                var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == record.DatasetId,
                    stoppingToken);
                if (version is null || dataset is null || dataset.Deleted)
                    record.Fail(version is null ? "The model version was deleted." : "The dataset was deleted.");
                else if (dataset.TokenizationFailure is { } reason)
                    record.Fail(KnownDataset.NotTokenized(reason));
                else
                {
                    record.AwaitEncoding(version);
                    if (dataset.Tokenized)
                        db.SendViaOutbox(record.EncodingRequest(), Queues.EncodeDataset);
                }
                return true;
            }, CancellationToken.None);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Deleted meanwhile (its version or dataset went): nothing to ask for.
        }
    }

    private void Log(EvaluationRecord record, EvaluationFigures f)
    {
        if (record.IsRunsOwn)
            logger.LogInformation("run {RunId} evaluated: {Figures}", record.RunId, f);
        else
            logger.LogInformation("Evaluation {Id}: {Model} v{Version} on dataset {Dataset}: {Figures}", record.Id,
                record.ModelName, record.ModelVersion, record.DatasetId, f);
    }
}
