using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Training.Data;

namespace Training.Runs;

/// <summary>What changed in a run since the last flush; null fields are left as they are.</summary>
public sealed record RunProgressSnapshot
{
    public int? Step { get; init; }
    public double? TrainLoss { get; init; }
    public double? ValidationLoss { get; init; }
    public double? TokensPerSecond { get; init; }
    public double? EtaSeconds { get; init; }
    public (int Step, string Sha256)? LatestCheckpoint { get; init; }
    public (int Step, string Sha256)? BestCheckpoint { get; init; }
}

/// <summary>
/// Takes metric points and progress from the training thread without blocking it, and writes them to
/// PostgreSQL in batches twice a second. The same loop notices cancellation requests of the runs it tracks
/// (set by the API of any instance) and cancels them.
/// </summary>
public sealed class MetricsWriter(IServiceScopeFactory scopes, ILogger<MetricsWriter> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    private readonly Channel<MetricPoint> _points = Channel.CreateUnbounded<MetricPoint>(
        new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<Guid, RunProgressSnapshot> _progress = new();
    private readonly ConcurrentDictionary<Guid, (CancellationTokenSource Cancel, long LeaseToken)> _tracked = new();
    private readonly SemaphoreSlim _flushGate = new(1, 1);

    public void Record(Guid runId, string key, int step, double value)
    {
        if (double.IsFinite(value))
            _points.Writer.TryWrite(new MetricPoint
            {
                RunId = runId,
                Key = key,
                Step = step,
                Value = value,
                Timestamp = DateTimeOffset.UtcNow
            });
    }

    public void UpdateProgress(Guid runId, Func<RunProgressSnapshot, RunProgressSnapshot> update) =>
        _progress.AddOrUpdate(runId, _ => update(new RunProgressSnapshot()), (_, old) => update(old));

    /// <summary>
    /// A token cancelled when someone asks to cancel the run. Progress is written only while the run still carries
    /// <paramref name="leaseToken"/>: a worker that lost its lease does not overwrite the new holder's progress.
    /// </summary>
    public CancellationToken Track(Guid runId, long leaseToken) =>
        _tracked.GetOrAdd(runId, _ => (new CancellationTokenSource(), leaseToken)).Cancel.Token;

    public void Untrack(Guid runId)
    {
        if (_tracked.TryRemove(runId, out var tracked))
            tracked.Cancel.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await FlushAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // A slow or absent database delays metrics; it never fails or slows a training step.
                logger.LogWarning("Writing metrics failed, will retry: {Message}", ex.Message);
            }
            await Task.Delay(Interval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        await FlushAsync(CancellationToken.None);
    }

    /// <summary>Writes everything recorded so far.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushGate.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
            var batch = new List<MetricPoint>();
            while (_points.Reader.TryRead(out var point))
                batch.Add(point);
            db.Metrics.AddRange(batch);

            var progress = _progress.ToArray();
            foreach (var (runId, _) in progress)
                _progress.TryRemove(runId, out _);
            var ids = progress.Select(p => p.Key).Concat(_tracked.Keys).Distinct().ToList();
            if (ids.Count > 0)
            {
                var runs = await db.Runs.Where(r => ids.Contains(r.Id)).ToListAsync(cancellationToken);
                foreach (var run in runs)
                {
                    var isTracked = _tracked.TryGetValue(run.Id, out var tracked);
                    if (isTracked && tracked.LeaseToken != run.LeaseToken)
                        continue;
                    if (progress.FirstOrDefault(p => p.Key == run.Id).Value is { } snapshot)
                        run.RecordProgress(snapshot);
                    if (run.CancelRequested && isTracked)
                        await tracked.Cancel.CancelAsync();
                }
            }
            await db.SaveChangesAsync(cancellationToken);
        }
        finally
        {
            _flushGate.Release();
        }
    }
}
