using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Training.Data;

namespace Training.Runs;

/// <summary>A worker's claim on a run: the run, tracked by the claiming DbContext, and the fencing token it
/// holds.</summary>
public sealed record RunClaim(Run Run, long LeaseToken);

public static class RunClaims
{
    /// <summary>
    /// Takes the oldest claimable run (Queued, or Training under an expired lease; never an external run, which its
    /// user's script trains) with FOR UPDATE SKIP LOCKED, so two workers never take the same one. Null when there is
    /// none; a claim that ended the run Failed (crash limit) is saved and returns a claim of nothing to train, so the
    /// worker looks again at once.
    /// </summary>
    public static async Task<(bool Found, RunClaim? Claim)> ClaimNextAsync(TrainingDbContext db, string worker,
        TrainingOptions options,
        CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = DateTimeOffset.UtcNow;
        var candidates = await db.Runs.FromSqlInterpolated($"""
            SELECT * FROM training.runs
            WHERE NOT "External" AND ("State" = 'Queued'
               OR ("State" = 'Training' AND ("LeaseExpiresAt" IS NULL OR "LeaseExpiresAt" < {now})))
            ORDER BY "CreatedAt" LIMIT 1 FOR UPDATE SKIP LOCKED
            """).ToListAsync(cancellationToken);
        if (candidates.FirstOrDefault() is not { } run)
            return (false, null);
        var claimed = run.Claim(worker, now, options.Lease, options.MaxCrashes);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (true, claimed ? new RunClaim(run, run.LeaseToken) : null);
    }
}
