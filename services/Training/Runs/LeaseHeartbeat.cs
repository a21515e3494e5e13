using Microsoft.EntityFrameworkCore;
using Training.Data;

namespace Training.Runs;

/// <summary>
/// Renews a claimed run's lease every third of its length while it trains. If the row no longer carries this worker's
/// fencing token (the lease expired and another worker took the run) <see cref="Lost"/> is cancelled and the worker
/// stops. A database that does not answer is retried: the lease simply runs out if it stays away.
/// </summary>
public sealed class LeaseHeartbeat : IAsyncDisposable
{
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LeaseHeartbeat(IServiceScopeFactory scopes, RunClaim claim, TimeSpan lease, ILogger logger)
    {
        var runId = claim.Run.Id;
        var token = claim.LeaseToken;
        _loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(lease / 3);
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
                    var expires = DateTimeOffset.UtcNow + lease;
                    var renewed = await db.Runs
                        .Where(r => r.Id == runId && r.LeaseToken == token && r.State == RunState.Training)
                        .ExecuteUpdateAsync(u => u.SetProperty(r => r.LeaseExpiresAt, expires), _stop.Token);
                    if (renewed == 0)
                    {
                        logger.LogWarning("run {RunId}: lease {Token} lost (another worker holds the run, or it stopped); this worker stops", runId, token);
                        await _lost.CancelAsync();
                        return;
                    }
                }
                catch (Exception ex) when (!_stop.IsCancellationRequested)
                {
                    logger.LogWarning("run {RunId}: renewing the lease failed, will retry: {Message}", runId, ex.Message);
                }
            }
        });
    }

    /// <summary>Cancelled when the lease was taken by another worker.</summary>
    public CancellationToken Lost => _lost.Token;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        _lost.Dispose();
    }
}
