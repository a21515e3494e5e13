using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Platform.ServiceDefaults.Persistence;
namespace Training.Data;

/// <summary>
/// Upgrading an installation older than the release before the registry had its own schema: the registry's first
/// migration copies the versions and aliases out of Training's tables as that release left them, so Training's schema
/// must first be brought to that release (its migrations up to <see cref="LastWithRegistryTables"/>). Runs before the
/// registry's migrations; does nothing on a new database or one already past that point.
/// </summary>
public sealed class TrainingSchemaBeforeRegistry(IServiceProvider services,
    ILogger<TrainingSchemaBeforeRegistry> logger) : IHostedService
{
    /// <summary>Training's last migration that still holds the registry's tables.</summary>
    public const string LastWithRegistryTables = "20261201050150_AliasesAndAnnotations";

    public Task StartAsync(CancellationToken cancellationToken) => StartupRetry.RunAsync(async token =>
    {
        await using var scope = services.CreateAsyncScope();
        var training = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
        // Migrations apply in order: a database past that point has it applied too.
        var applied = (await training.Database.GetAppliedMigrationsAsync(token)).ToList();
        if (applied.Count == 0 || applied.Contains(LastWithRegistryTables))
            return;
        logger.LogInformation("Bringing Training's schema to {Migration} before the registry takes its versions and " +
            "aliases", LastWithRegistryTables);
        await training.Database.GetService<IMigrator>().MigrateAsync(LastWithRegistryTables, token);
    }, logger, "Training schema upgrade", cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
