using Microsoft.EntityFrameworkCore;
using Training.Data;

namespace Training.Runs;

/// <summary>
/// Renews a claimed run's lease every third of its length while it trains. If the row no longer carries this worker's
/// fencing token (the lease expired and another worker took the run) <see cref="Lost"/> is cancelled and the worker
/// stops. A database that does not answer is retried: the lease simply runs out if it stays away, and
/// <see cref="Holds"/> turns false before it does, so the worker writes no checkpoint another worker may be writing.
/// </summary>
public sealed class LeaseHeartbeat : IAsyncDisposable
{
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _lease;
    private readonly IServiceScopeFactory _scopes;
    private readonly Guid _runId;
    private readonly long _token;
    private readonly ILogger _logger;
    private long _confirmedUntil;

    public LeaseHeartbeat(IServiceScopeFactory scopes, RunClaim claim, TimeSpan lease, ILogger logger,
        TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        _lease = lease;
        // The claim set the lease a moment ago; until the first renewal it runs from there.
        _confirmedUntil = (claim.Run.LeaseExpiresAt ?? _clock.GetUtcNow() + lease).UtcTicks;
        _scopes = scopes;
        _runId = claim.Run.Id;
        _token = claim.LeaseToken;
        _logger = logger;
        _loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(lease / 3);
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    if (!await RenewAsync(_stop.Token))
                        return;
                }
                catch (Exception ex) when (!_stop.IsCancellationRequested)
                {
                    logger.LogWarning("run {RunId}: renewing the lease failed, will retry: {Message}", _runId,
                        ex.Message);
                }
            }
        });
    }

    /// <summary>Extends the lease if the row still carries this worker's token; false (and lost) if not.</summary>
    private async Task<bool> RenewAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
        var expires = _clock.GetUtcNow() + _lease;
        var renewed = await db.Runs
            .Where(r => r.Id == _runId && r.LeaseToken == _token && r.State == RunState.Training)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.LeaseExpiresAt, expires), cancellationToken);
        if (renewed == 0)
        {
            _logger.LogWarning(
                "run {RunId}: lease {Token} lost (another worker holds the run, or it stopped); this worker stops",
                _runId, _token);
            await _lost.CancelAsync();
            return false;
        }
        Volatile.Write(ref _confirmedUntil, expires.UtcTicks);
        return true;
    }

    /// <summary>
    /// <see cref="Holds"/>, or else asks the database now (renewing the lease): what a worker checks before it writes
    /// what another worker may be writing. False when the lease is lost or the database does not answer.
    /// </summary>
    public bool Confirm()
    {
        if (Holds)
            return true;
        try
        {
            return RenewAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            _logger.LogWarning("run {RunId}: the lease could not be confirmed: {Message}", _runId, ex.Message);
            return false;
        }
    }

    /// <summary>Cancelled when the lease was taken by another worker.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>
    /// Whether the lease is surely still this worker's: not lost, and confirmed by the database until at least a third
    /// of a lease from now (the renewal's period), so no other worker can have claimed the run yet.
    /// </summary>
    public bool Holds => !_lost.IsCancellationRequested
                         && _clock.GetUtcNow().UtcTicks + _lease.Ticks / 3 < Volatile.Read(ref _confirmedUntil);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        _lost.Dispose();
    }
}
