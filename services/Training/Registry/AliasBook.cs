using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Training.Registry.Data;

namespace Training.Registry;

/// <summary>
/// Sets, moves and removes aliases. Each change takes a transaction-scoped lock on the model's name first, so moves of
/// one model happen one after another; it is recorded as a <see cref="ModelAliasMove"/> and announced as
/// ModelAliasMoved through the outbox, all in the caller's SaveChanges.
/// </summary>
public static class AliasBook
{
    /// <summary>Serialises alias changes of <paramref name="name"/> until the current transaction ends.</summary>
    public static Task LockAsync(RegistryDbContext db, string name, CancellationToken cancellationToken) =>
        db.LockAsync("alias:" + name, cancellationToken);

    /// <summary>
    /// Points <paramref name="alias"/> at <paramref name="version"/> (null: removes it); a no-op when it already does.
    /// Returns the alias as it now is (tracked, so it reads as saved after SaveChanges), or null once removed.
    /// </summary>
    public static async Task<ModelAlias?> MoveAsync(RegistryDbContext db, string name, string alias, int? version,
        string by, Guid byKeyId,
        CancellationToken cancellationToken)
    {
        var current = await db.ModelAliases.FirstOrDefaultAsync(a => a.Name == name && a.Alias == alias,
            cancellationToken);
        if (current?.Version == version)
            return current;
        var id = await db.Database.SqlQueryRaw<long>(
            $"SELECT nextval('{RegistryDbContext.Schema}.{ModelAliasMove.Sequence}') AS \"Value\"")
            .SingleAsync(cancellationToken);
        var move = ModelAliasMove.Of(id, name, alias, current?.Version, version, by, byKeyId, DateTimeOffset.UtcNow);
        db.ModelAliasMoves.Add(move);
        if (version is null)
            db.ModelAliases.Remove(current!);
        else
        {
            if (current is null)
                db.ModelAliases.Add(current = ModelAlias.Create(name, alias));
            current.MoveTo(move);
        }
        db.PublishViaOutbox(move.Event());
        return version is null ? null : current;
    }

    /// <summary>The version <paramref name="alias"/> points to now; null when it points nowhere.</summary>
    public static async Task<ModelVersion?> TargetAsync(RegistryDbContext db, string name, string alias,
        CancellationToken cancellationToken) =>
        await db.ModelAliases.AsNoTracking().FirstOrDefaultAsync(a => a.Name == name && a.Alias == alias,
        cancellationToken) is { } current
            ? await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Name == name
            && v.Version == current.Version, cancellationToken)
            : null;

    /// <summary>Each check of the alias's promotion gate on <paramref name="version"/>, passed or not; none when the
    /// alias has no gate.</summary>
    public static async Task<IReadOnlyList<GateCheck>> GateChecksAsync(RegistryDbContext db, string name, string alias,
        ModelVersion version,
        CancellationToken cancellationToken) =>
        await db.PromotionGates.AsNoTracking().FirstOrDefaultAsync(g => g.Name == name && g.Alias == alias,
        cancellationToken) is { } gate
            ? gate.Check(version)
            : [];

    /// <summary>Removes every alias pointing to a version being deleted (a dataset's cascade deletion takes its
    /// versions).</summary>
    public static async Task RemoveAllToAsync(RegistryDbContext db, string name, int version, string by,
        CancellationToken cancellationToken)
    {
        await LockAsync(db, name, cancellationToken);
        foreach (var alias in await db.ModelAliases.Where(a => a.Name == name && a.Version == version).Select(a =>
            a.Alias).ToListAsync(cancellationToken))
            await MoveAsync(db, name, alias, null, by, Guid.Empty, cancellationToken);
    }
}
