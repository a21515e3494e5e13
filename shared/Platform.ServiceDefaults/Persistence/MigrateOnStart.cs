using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.ServiceDefaults.Persistence;

/// <summary>
/// Applies pending migrations before the service takes traffic. EF Core takes a database lock while it
/// migrates and skips applied migrations, so running it twice, or from two replicas, is safe.
/// </summary>
internal sealed class MigrateOnStart<TContext>(IServiceProvider services,
    ILogger<MigrateOnStart<TContext>> logger) : IHostedService
    where TContext : DbContext
{
    public Task StartAsync(CancellationToken cancellationToken) => StartupRetry.RunAsync(async token =>
    {
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<TContext>().Database.MigrateAsync(token);
        logger.LogInformation("Database schema of {Context} is up to date", typeof(TContext).Name);
    }, logger, "Migration", cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
