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
}
