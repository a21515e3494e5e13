using Microsoft.EntityFrameworkCore;
using Training.Data;

namespace Training.Runs;

/// <summary>Ends the runs a dead message would have left in a non-final state, with the reason.</summary>
public static class RunFaults
{
    public static async Task FailAsync(TrainingDbContext db, IQueryable<Run> stranded, string reason, ILogger logger,
        CancellationToken cancellationToken)
    {
        var runs = await stranded.Where(r => r.State != RunState.Completed && r.State != RunState.Failed
            && r.State != RunState.Cancelled && r.State != RunState.Deleted).ToListAsync(cancellationToken);
        foreach (var run in runs)
        {
            run.Fail(reason);
            logger.LogWarning("run {RunId} failed: a message about it faulted after its retries", run.Id);
        }
        if (runs.Count > 0)
            await db.SaveChangesAsync(cancellationToken);
    }
}
