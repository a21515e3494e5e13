using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Training.Registry.Data;

namespace Training.Registry;

/// <summary>
/// At start, announces again the versions registered before sharing, now with their lineage, so Generation and
/// Evaluation learn whose data they carry; until then those serve and show them to admins only. Their consumers
/// take a lineage once, so announcing twice (two replicas) is harmless.
/// </summary>
public sealed class LineageAnnouncement(IServiceProvider services, ILogger<LineageAnnouncement> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => StartupRetry.RunAsync(async token =>
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var unannounced = await db.ModelVersions.Where(v => !v.LineageAnnounced).ToListAsync(token);
        foreach (var version in unannounced)
        {
            version.LineageAnnounced = true;
            db.PublishViaOutbox(Registrar.Registered(version));
        }
        await db.SaveChangesAsync(token);
        if (unannounced.Count > 0)
            logger.LogInformation("Announced the lineage of {Count} versions that predate sharing", unannounced.Count);
    }, logger, "Lineage announcement", cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
