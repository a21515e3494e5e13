using System.Collections.Concurrent;
using Gateway.Data;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Access;

/// <summary>The key behind a presented secret, with the limits that apply to it.</summary>
public sealed record AuthenticatedKey(Guid Id, string Name, string Role, int? RequestsPerSecond, int? MaxConcurrentGenerations);

/// <summary>
/// Finds active keys by the hash of their secret. Every request asks the database (one indexed lookup), so a
/// revoked key is refused from the very next request, on every gateway replica. Last-used times are written at
/// most once a minute per key.
/// </summary>
public sealed class ApiKeyStore(IServiceScopeFactory scopes, TimeProvider clock)
{
    private static readonly TimeSpan UsageResolution = TimeSpan.FromMinutes(1);

    private static readonly Func<AccessDbContext, string, CancellationToken, Task<AuthenticatedKey?>> FindActive =
        EF.CompileAsyncQuery((AccessDbContext db, string hash, CancellationToken _) => db.Keys
            .Where(k => k.SecretHash == hash && k.RevokedAt == null)
            .Select(k => new AuthenticatedKey(k.Id, k.Name, k.Role, k.RequestsPerSecond, k.MaxConcurrentGenerations))
            .FirstOrDefault());

    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _usageWritten = new();

    public async Task<AuthenticatedKey?> FindActiveAsync(string secret, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AccessDbContext>();
        var key = await FindActive(db, ApiKeySecret.Hash(secret), cancellationToken);
        if (key is not null)
            await RecordUseAsync(db, key.Id, cancellationToken);
        return key;
    }

    private async Task RecordUseAsync(AccessDbContext db, Guid id, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (_usageWritten.TryGetValue(id, out var last) && now - last < UsageResolution)
            return;
        _usageWritten[id] = now;
        await db.Keys.Where(k => k.Id == id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), cancellationToken);
    }
}
