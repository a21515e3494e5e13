using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Messaging;

namespace Ingestion.Data;

/// <summary>
/// The reach of datasets that predate sharing (sequence 0), announced at start: private to their owner, as a new
/// upload is. Until it arrives, the other services let admins only read what was learned from them.
/// </summary>
public sealed class ReachAnnouncement(IServiceProvider services, ILogger<ReachAnnouncement> logger)
    : StartupAnnouncement<IngestionDbContext>(services, logger)
{
    protected override string What => "the reach of datasets that predate sharing";

    protected override async Task<int> AnnounceAsync(IngestionDbContext db, CancellationToken cancellationToken)
    {
        var unannounced = await db.LiveDatasets.Where(d => d.SharingSequence == 0).ToListAsync(cancellationToken);
        foreach (var dataset in unannounced)
            db.PublishViaOutbox(dataset.AnnounceReach());
        return unannounced.Count;
    }
}
