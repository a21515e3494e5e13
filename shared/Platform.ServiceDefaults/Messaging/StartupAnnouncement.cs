using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.ServiceDefaults.Persistence;

namespace Platform.ServiceDefaults.Messaging;

/// <summary>
/// Announces once at start, through the outbox, what an upgrade left unannounced (rows from before an event
/// existed), after the migrations have run. Announcing twice (two replicas) must be harmless to the consumers.
/// </summary>
public abstract class StartupAnnouncement<TContext>(IServiceProvider services, ILogger logger) : IHostedService
    where TContext : DbContext
{
    /// <summary>What is announced, for the log ("the reach of datasets that predate sharing").</summary>
    protected abstract string What { get; }

    /// <summary>Marks the rows announced and queues their events on <paramref name="db"/>'s outbox; returns how
    /// many.</summary>
    protected abstract Task<int> AnnounceAsync(TContext db, CancellationToken cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => StartupRetry.RunAsync(async token =>
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var announced = await AnnounceAsync(db, token);
        await db.SaveChangesAsync(token);
        if (announced > 0)
            logger.LogInformation("Announced {What}: {Count}", What, announced);
    }, logger, "Announcing " + What, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
