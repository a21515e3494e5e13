using Microsoft.Extensions.Logging;

namespace Platform.ServiceDefaults.Persistence;

/// <summary>
/// Start-up work against the database, tried again every 2 s for up to 30 attempts: the database may still be starting
/// (compose, CI), and waiting beats a crash loop.
/// </summary>
public static class StartupRetry
{
    public static async Task RunAsync(Func<CancellationToken, Task> work, ILogger logger, string what,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await work(cancellationToken);
                return;
            }
            catch (Exception ex) when (attempt < 30 && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("{What} attempt {Attempt} failed: {Message}", what, attempt, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
        }
    }
}
