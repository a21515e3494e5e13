using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Training.Registry.Data;

namespace Training.Registry.Consumers;

/// <summary>
/// A completed sweep that asked for it has its alias moved to the best run's version, as its owner would move it by
/// hand: not past a promotion gate the version fails, nor away from another owner's version. Moving an alias where it
/// already points changes nothing, so a redelivery is harmless.
/// </summary>
public sealed class SweepCompletedConsumer(RegistryDbContext db,
    ILogger<SweepCompletedConsumer> logger) : IConsumer<SweepCompleted>
{
    public async Task Consume(ConsumeContext<SweepCompleted> context)
    {
        var m = context.Message;
        if (m is not
            {
                State: "Completed", PromoteAlias: { } alias, BestModelName: { } name, BestVersion: { } number,
                BestRunId: { } runId
            })
            return;
        var cancellationToken = context.CancellationToken;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await AliasBook.LockAsync(db, name, cancellationToken);
        var version = await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Name == name
            && v.Version == number && v.RunId == runId, cancellationToken);
        if (version is null)
        {
            logger.LogWarning("Sweep {SweepId}: {Name} v{Version} is no longer registered; alias {Alias} not moved",
                m.SweepId, name, number, alias);
            return;
        }
        var from = await AliasBook.TargetAsync(db, name, alias, cancellationToken);
        if (from is not null && from.OwnerId != m.Owner?.Id)
        {
            logger.LogWarning("Sweep {SweepId}: alias {Alias} of {Name} points to another owner's v{Version}; not " +
                "moved", m.SweepId, alias, name, from.Version);
            return;
        }
        if ((await AliasBook.GateChecksAsync(db, name, alias, version, cancellationToken)).Where(c =>
            !c.Passes).Select(c => c.Figure).ToList() is { Count: > 0 } failing)
        {
            logger.LogWarning("Sweep {SweepId}: {Name} v{Version} fails the gate of alias {Alias} on {Figures}; not " +
                "moved", m.SweepId, name, number, alias,
                string.Join(", ", failing));
            return;
        }
        await AliasBook.MoveAsync(db, name, alias, number, $"sweep {m.SweepId}", m.Owner?.Id ?? Guid.Empty,
            cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Sweep {SweepId}: alias {Alias} of {Name} now points to v{Version}", m.SweepId, alias,
            name, number);
    }
}
