using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Storage;

namespace Platform.ServiceDefaults.Storage;

/// <summary>
/// Removes the artifact store's abandoned staged files at start-up and then at an interval (see
/// <see cref="ArtifactStore.SweepStaging"/>), so half-written uploads and checkpoints of killed processes do not pile
/// up.
/// </summary>
public sealed class StagingSweeper(ArtifactStore store, IOptions<StagingSweepOptions> options, TimeProvider clock,
    ILogger<StagingSweeper> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.StagingSweepInterval, clock);
        do
        {
            try
            {
                var swept = store.SweepStaging(options.Value.StagingMaxAge, clock.GetUtcNow().UtcDateTime);
                if (swept > 0)
                    logger.LogInformation("Artifact store: removed {Count} staged files abandoned for over {MaxAge}",
                        swept, options.Value.StagingMaxAge);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("Artifact store: sweeping staged files failed: {Error}", ex.Message);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
