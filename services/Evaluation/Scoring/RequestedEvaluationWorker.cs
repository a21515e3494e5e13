using System.Diagnostics;
using Evaluation.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Tokenizers;
using Platform.ServiceDefaults.Reliability;

namespace Evaluation.Scoring;

/// <summary>
/// Scores evaluations requested through the API, one at a time, oldest first. A request is claimed by moving it from
/// Pending to Running in one conditional update, so replicas never score one twice; one left Running by a worker that
/// died is taken up again after <see cref="EvaluationOptions.StaleMinutes"/>. Bad data (text the model's tokenizer
/// cannot encode, a malformed file) fails the request with the reason; the held-out split encoded for it is removed.
/// </summary>
public sealed class RequestedEvaluationWorker(IServiceScopeFactory scopes, SplitEncoder encoder,
    CheckpointScorer scorer,
    IOptions<EvaluationOptions> options, ILogger<RequestedEvaluationWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(Math.Max(0.1, options.Value.PollSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!await ScoreNextAsync(stoppingToken))
                    await Task.Delay(poll, stoppingToken);
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
            .Where(e => e.DatasetId != null
            && (e.State == EvaluationState.Pending || (e.State == EvaluationState.Running && e.StartedAt < stale)))
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
        var version = await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Name == record.ModelName
            && v.Version == record.ModelVersion, stoppingToken);
        var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == record.DatasetId,
            stoppingToken);
        var clock = Stopwatch.StartNew();
        try
        {
            if (version is null || dataset is null || dataset.Deleted)
                throw new InvalidDataException(version is null ? "The model version was deleted."
                    : "The dataset was deleted.");
            var target = await encoder.EncodeAsync(record.Id, version, dataset, stoppingToken);
            var (figures, sample) = await scorer.ScoreAsync(target, stoppingToken);
            record.Complete(figures, sample);
            logger.LogInformation("Evaluation {Id}: {Model} v{Version} on dataset {Dataset}: loss {Loss:F4}, macro " +
                "recall {Recall:P1}{Sequences}",
                record.Id, record.ModelName, record.ModelVersion, record.DatasetId, figures.Loss, figures.MacroRecall,
                figures.ExactMatch is { } exact ? $", exact match {exact:P1}, BLEU {figures.Bleu:F2}" : "");
        }
        catch (Exception ex) when (
            ex is InvalidDataException or UnknownTokenException or ArgumentException or System.Text.Json.JsonException
                                       or System.Text.DecoderFallbackException or FileNotFoundException)
        {
            // The reason may quote the dataset's text, so it goes to the evaluation, and the log names only the error.
            logger.LogWarning("Evaluation {Id} failed ({Error})", record.Id, ex.GetType().Name);
            record.Fail(PublicReason.Of(ex));
        }
        finally
        {
            encoder.Discard(record.Id);
        }
        record.DurationMilliseconds = clock.ElapsedMilliseconds;
        // Deleted meanwhile (its version or dataset went): nothing to save.
        try
        {
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (DbUpdateConcurrencyException)
        {
        }
        return true;
    }
}
