using System.Collections.Concurrent;
using Gateway.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Gateway.Access;

/// <summary>The key behind a presented secret, with the limits that apply to it.</summary>
public sealed record AuthenticatedKey(Guid Id, string Name, string Role, int? RequestsPerSecond,
    int? MaxConcurrentGenerations);

/// <summary>
/// Finds active keys by the hash of their secret: from a short-lived cache (Gateway:RateLimits:KeyCacheSeconds), else
/// one indexed query. A key revoked here is dropped from this replica's cache at once; another replica refuses it once
/// its cached entry expires. Only keys that exist are cached: an unknown secret is asked of the database every time,
/// within the address's failed-authentication budget (<see cref="FailedAuthentications"/>). Last-used times are
/// written at most once a minute per key.
/// </summary>
public sealed class ApiKeyStore(IServiceScopeFactory scopes, TimeProvider clock, IMemoryCache cache,
    IOptions<RateLimitOptions> options)
{
    private static readonly TimeSpan UsageResolution = TimeSpan.FromMinutes(1);

    private static readonly Func<AccessDbContext, string, CancellationToken, Task<AuthenticatedKey?>> FindActive =
        EF.CompileAsyncQuery((AccessDbContext db, string hash, CancellationToken _) => db.Keys
            .Where(k => k.SecretHash == hash && k.RevokedAt == null)
            .Select(k => new AuthenticatedKey(k.Id, k.Name, k.Role, k.RequestsPerSecond, k.MaxConcurrentGenerations))
            .FirstOrDefault());

    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _usageWritten = new();

    /// <summary>
    /// The key with this secret's hash (<see cref="ApiKeySecret.Hash"/>) looked up recently (its use recorded), without
    /// a query; null when not cached.
    /// </summary>
    public async Task<AuthenticatedKey?> FindCachedAsync(string hash, CancellationToken cancellationToken)
    {
        if (!cache.TryGetValue(CacheKey(hash), out AuthenticatedKey? key))
            return null;
        await RecordUseAsync(key!.Id, cancellationToken);
        return key;
    }

    /// <summary>The active key with this secret's hash, asked of the database (and then cached), or null.</summary>
    public async Task<AuthenticatedKey?> FindActiveAsync(string hash, CancellationToken cancellationToken)
    {
        AuthenticatedKey? key;
        await using (var scope = scopes.CreateAsyncScope())
            key = await FindActive(scope.ServiceProvider.GetRequiredService<AccessDbContext>(), hash,
                cancellationToken);
        if (key is null)
            return null;
        cache.Set(CacheKey(hash), key, TimeSpan.FromSeconds(Math.Max(0, options.Value.KeyCacheSeconds)));
        await RecordUseAsync(key.Id, cancellationToken);
        return key;
    }

    /// <summary>Drops a revoked key from this replica's cache, so its next request here is refused.</summary>
    public void Forget(string secretHash) => cache.Remove(CacheKey(secretHash));

    private static string CacheKey(string hash) => "api-key:" + hash;

    private async Task RecordUseAsync(Guid id, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (_usageWritten.TryGetValue(id, out var last) && now - last < UsageResolution)
            return;
        _usageWritten[id] = now;
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AccessDbContext>().Keys.Where(k => k.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), cancellationToken);
    }
}
