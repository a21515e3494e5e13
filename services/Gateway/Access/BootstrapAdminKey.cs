using Gateway.Data;
using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Security;

namespace Gateway.Access;

/// <summary>
/// The first admin key comes from PLATFORM_ADMIN_KEY (environment or configuration). At every start its hash is
/// written to the bootstrap row, so changing the setting rotates the key; unsetting it revokes that row.
/// </summary>
public sealed class BootstrapAdminKey(IServiceScopeFactory scopes, IConfiguration configuration,
    ILogger<BootstrapAdminKey> logger) : IHostedService
{
    public const string ConfigurationKey = "PLATFORM_ADMIN_KEY";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var secret = configuration[ConfigurationKey]?.Trim();
        SecurityExtensions.RefusePlaceholder(ConfigurationKey, secret);
        if (!string.IsNullOrEmpty(secret) && secret.Length < ApiKeySecret.MinConfiguredLength)
            throw new InvalidOperationException($"{ConfigurationKey} must be at least " +
                $"{ApiKeySecret.MinConfiguredLength} characters long.");

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AccessDbContext>();
        var row = await db.Keys.FirstOrDefaultAsync(k => k.Id == ApiKey.BootstrapId, cancellationToken);
        if (string.IsNullOrEmpty(secret))
        {
            if (row is { RevokedAt: null })
            {
                row.RevokedAt = DateTimeOffset.UtcNow;
                row.RevokedByName = $"{ConfigurationKey} unset";
                await db.SaveChangesAsync(cancellationToken);
            }
            if (!await db.Keys.AnyAsync(k => k.Role == Roles.Admin && k.RevokedAt == null, cancellationToken))
                logger.LogWarning("No admin key exists and {Setting} is not set: every request except health checks " +
                    "will be refused. Set {Setting} and restart the gateway.", ConfigurationKey, ConfigurationKey);
            return;
        }

        if (row is null)
            db.Keys.Add(row = new ApiKey
            {
                Id = ApiKey.BootstrapId,
                CreatedAt = DateTimeOffset.UtcNow,
                CreatedByName = ConfigurationKey
            });
        row.Name = "admin";
        row.Role = Roles.Admin;
        row.SecretHash = ApiKeySecret.Hash(secret);
        row.Prefix = ApiKeySecret.PrefixOf(secret);
        row.RevokedAt = null;
        row.RevokedByName = null;
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Bootstrap admin key from {Setting} is active", ConfigurationKey);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
