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
