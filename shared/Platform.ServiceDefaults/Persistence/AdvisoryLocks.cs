using Microsoft.EntityFrameworkCore;

namespace Platform.ServiceDefaults.Persistence;

public static class AdvisoryLocks
{
    /// <summary>
    /// Takes PostgreSQL's transaction-scoped advisory lock on an id (released at commit or rollback), so two
    /// consumers changing what hangs off one dataset or run, in one service, take turns.
    /// </summary>
    public static Task LockAsync(this DbContext db, Guid id, CancellationToken cancellationToken)
    {
        var key = BitConverter.ToInt64(id.ToByteArray(), 0);
        return db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({key})", cancellationToken);
    }

    /// <summary>The same lock on a name (e.g. "alias:" + a model's name), hashed by PostgreSQL to its 64-bit
    /// key.</summary>
    public static Task LockAsync(this DbContext db, string name, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({name}, 0))", cancellationToken);

    /// <summary>
    /// Runs <paramref name="change"/> in a transaction holding the id's lock, then saves and commits, unless the change
    /// answers false (nothing it did is kept). Consumers that must not interleave for one dataset or run use this.
    /// </summary>
    public static async Task<bool> ChangeUnderLockAsync(this DbContext db, Guid id, Func<Task<bool>> change,
        CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockAsync(id, cancellationToken);
        if (!await change())
            return false;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }
}
