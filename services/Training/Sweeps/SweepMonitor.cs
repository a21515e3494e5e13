using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Training.Data;

namespace Training.Sweeps;

/// <summary>
/// Ends sweeps whose runs have all ended, and announces each as SweepCompleted (the registry moves the best run's alias
/// from it). A run ends in many places (completion, failure, cancellation, deletion, its dataset's deletion), so the
/// monitor looks at the runs, not at each of those events. Every Training instance runs one: the sweep's lock and
/// its state make the second to look a no-op.
/// </summary>
public sealed class SweepMonitor(IServiceScopeFactory scopes, IOptions<SweepOptions> options,
    ILogger<SweepMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PollInterval);
        do
        {
            try
            {
                await FinishEndedAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Could not end finished sweeps; trying again in {Interval}",
                    options.Value.PollInterval);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Ends every running sweep none of whose runs is still going; returns how many it ended.</summary>
    public async Task<int> FinishEndedAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
        var candidates = await db.Sweeps.AsNoTracking()
            .Where(s => s.State == SweepState.Running
            && !db.Runs.Any(r => r.SweepId == s.Id && !Run.EndStates.Contains(r.State)))
            .Select(s => s.Id).ToListAsync(cancellationToken);
        var finished = 0;
        foreach (var id in candidates)
        {
            db.ChangeTracker.Clear();
            if (await db.ChangeUnderLockAsync(id, () => FinishAsync(db, id, cancellationToken), cancellationToken))
                finished++;
        }
        return finished;
    }

    private async Task<bool> FinishAsync(TrainingDbContext db, Guid id, CancellationToken cancellationToken)
    {
        var sweep = await db.Sweeps.FirstAsync(s => s.Id == id, cancellationToken);
        var runs = await db.Runs.Where(r => r.SweepId == id).ToListAsync(cancellationToken);
        if (sweep.IsFinished || runs.Any(r => !r.IsFinished))
            return false;
        sweep.Finish(runs);
        var best = runs.FirstOrDefault(r => r.Id == sweep.BestRunId);
        db.PublishViaOutbox(sweep.Completed(best));
        logger.LogInformation("sweep {SweepId} {State}: {Runs} runs, best {BestRunId} ({Objective} {BestValue})",
            sweep.Id, sweep.State, runs.Count, sweep.BestRunId, sweep.Objective, sweep.BestValue);
        return true;
    }
}
