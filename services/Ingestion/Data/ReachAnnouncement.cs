using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;

namespace Ingestion.Data;

/// <summary>
/// At start, announces the reach of datasets that predate sharing (sequence 0): private to their owner, as a new
/// upload is. Until it arrives, the other services let admins only read what was learned from them. Announcing twice
/// (two replicas) is harmless: the projections keep one per sequence.
/// </summary>
public sealed class ReachAnnouncement(IServiceProvider services, ILogger<ReachAnnouncement> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => StartupRetry.RunAsync(async token =>
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngestionDbContext>();
        var unannounced = await db.LiveDatasets.Where(d => d.SharingSequence == 0).ToListAsync(token);
        foreach (var dataset in unannounced)
            db.PublishViaOutbox(dataset.AnnounceReach());
        await db.SaveChangesAsync(token);
        if (unannounced.Count > 0)
            logger.LogInformation("Announced the reach of {Count} datasets that predate sharing", unannounced.Count);
    }, logger, "Reach announcement", cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
