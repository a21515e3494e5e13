using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Messaging;
using Training.Registry.Data;

namespace Training.Registry;

/// <summary>
/// Versions registered before sharing, announced again at start with their lineage, so Generation and Evaluation
/// learn whose data they carry; until then those serve and show them to admins only. Their consumers take a
/// lineage once.
/// </summary>
public sealed class LineageAnnouncement(IServiceProvider services, ILogger<LineageAnnouncement> logger)
    : StartupAnnouncement<RegistryDbContext>(services, logger)
{
    protected override string What => "the lineage of versions that predate sharing";

    protected override async Task<int> AnnounceAsync(RegistryDbContext db, CancellationToken cancellationToken)
    {
        var unannounced = await db.ModelVersions.Where(v => !v.LineageAnnounced).ToListAsync(cancellationToken);
        foreach (var version in unannounced)
        {
            version.LineageAnnounced = true;
            db.PublishViaOutbox(Registrar.Registered(version));
        }
        return unannounced.Count;
    }
}
