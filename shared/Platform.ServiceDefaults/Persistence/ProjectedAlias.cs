using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;

namespace Platform.ServiceDefaults.Persistence;

/// <summary>
/// A service's own copy of a model alias, learned from ModelAliasMoved: the service resolves "name@alias" without
/// asking the registry. A removed alias stays as a row without a version, so a late, older move cannot bring it back.
/// </summary>
public sealed class ProjectedAlias
{
    public string Name { get; private set; } = "";
    public string Alias { get; private set; } = "";
    public int? Version { get; private set; }
    public long Sequence { get; private set; }

    /// <summary>Applies a move newer than what the row has seen; older or repeated moves change nothing.</summary>
    public bool Apply(ModelAliasMoved moved)
    {
        if (moved.Sequence <= Sequence)
            return false;
        Version = moved.Version;
        Sequence = moved.Sequence;
        return true;
    }

    public static ProjectedAlias For(string name, string alias) => new() { Name = name, Alias = alias };
}

public static class ProjectedAliases
{
    public static void ConfigureProjectedAliases(this ModelBuilder modelBuilder) =>
        modelBuilder.Entity<ProjectedAlias>(e =>
        {
            e.ToTable("model_aliases");
            e.HasKey(a => new { a.Name, a.Alias });
            e.Property(a => a.Alias).HasMaxLength(40);
        });

    /// <summary>
    /// The version number a reference names, or null for "name" (the caller takes the latest); for "name@alias", the
    /// version the alias points to now, or 0 when the alias is unknown (no version has number 0).
    /// </summary>
    public static async Task<int?> VersionOfAsync(this DbContext db, ModelReference reference,
        CancellationToken cancellationToken)
    {
        if (reference.Alias is not { } alias)
            return reference.Version;
        return await db.Set<ProjectedAlias>().AsNoTracking().Where(a => a.Name == reference.Name && a.Alias == alias)
            .Select(a => a.Version).FirstOrDefaultAsync(cancellationToken) ?? 0;
    }
}

/// <summary>
/// Keeps <typeparamref name="TContext"/>'s aliases in step with the registry; idempotent by sequence. Each service
/// derives its own consumer from it, so its queue is named after the service's consumer.
/// </summary>
public abstract class ModelAliasProjector<TContext>(TContext db) : IConsumer<ModelAliasMoved> where TContext : DbContext
{
    public async Task Consume(ConsumeContext<ModelAliasMoved> context)
    {
        var m = context.Message;
        var aliases = db.Set<ProjectedAlias>();
        var alias = await aliases.FindAsync([m.Name, m.Alias], context.CancellationToken);
        if (alias is null)
            aliases.Add(alias = ProjectedAlias.For(m.Name, m.Alias));
        if (alias.Apply(m))
            await db.SaveChangesAsync(context.CancellationToken);
    }
}

/// <summary>
/// Read-your-writes across the projection: a caller who has just registered a version or moved an alias in the
/// registry may name it here before the event has arrived, so a lookup that finds nothing is retried for a moment
/// before the service answers 404. Found or not, the wait is the same for every caller, so it tells no one whether a
/// name they may not read exists.
/// </summary>
public static class ProjectionLag
{
    /// <summary>Long enough for an event that is already on its way (it usually lands within tens of ms), short
    /// enough that a mistyped name is answered promptly.</summary>
    public static readonly TimeSpan Allowance = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// <paramref name="lookup"/>'s first non-null answer, trying again every 100 ms until <paramref name="within"/>
    /// (default <see cref="Allowance"/>) has passed; null if it never finds one.
    /// </summary>
    public static async Task<T?> SettleAsync<T>(Func<CancellationToken, Task<T?>> lookup,
        CancellationToken cancellationToken, TimeSpan? within = null, TimeProvider? time = null) where T : class
    {
        time ??= TimeProvider.System;
        var deadline = time.GetTimestamp() + (long)((within ?? Allowance).TotalSeconds * time.TimestampFrequency);
        while (true)
        {
            if (await lookup(cancellationToken) is { } found)
                return found;
            if (time.GetTimestamp() >= deadline)
                return null;
            await Task.Delay(Poll, time, cancellationToken);
        }
    }
}
