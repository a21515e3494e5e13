using System.Collections.Concurrent;
using Gateway.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Security;

namespace Gateway.Access;

/// <summary>
/// The requests each key has open on this replica, so a revocation ends the long ones too (event streams, streamed
/// completions): at once on the replica that revoked the key, and within Gateway:RateLimits:KeyCacheSeconds on the
/// others, which look for revocations among the keys they serve (<see cref="RevokedKeyWatcher"/>).
/// </summary>
public sealed class OpenRequests
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<HttpContext, byte>> _byKey = new();

    public IReadOnlyCollection<Guid> Keys => [.. _byKey.Where(k => !k.Value.IsEmpty).Select(k => k.Key)];

    /// <summary>Aborts every request the key has open here; returns how many.</summary>
    public int Close(Guid keyId)
    {
        if (!_byKey.TryGetValue(keyId, out var open))
            return 0;
        var contexts = open.Keys.ToList();
        foreach (var context in contexts)
            context.Abort();
        return contexts.Count;
    }

    /// <summary>Tracks an authenticated request for as long as it runs.</summary>
    public async Task TrackAsync(HttpContext context, RequestDelegate next)
    {
        if (Caller.From(context.User) is not { } caller)
        {
            await next(context);
            return;
        }
        var open = _byKey.GetOrAdd(caller.KeyId, _ => new ConcurrentDictionary<HttpContext, byte>());
        open.TryAdd(context, 0);
        try
        {
            await next(context);
        }
        finally
        {
            open.TryRemove(context, out _);
        }
    }
}

/// <summary>Ends, on this replica, the open requests of keys another replica revoked (see <see
/// cref="OpenRequests"/>).</summary>
public sealed class RevokedKeyWatcher(OpenRequests open, IServiceScopeFactory scopes,
    IOptions<RateLimitOptions> options,
    ILogger<RevokedKeyWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.Value.KeyCacheSeconds)));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var keys = open.Keys;
            if (keys.Count == 0)
                continue;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var revoked = await scope.ServiceProvider.GetRequiredService<AccessDbContext>().Keys.AsNoTracking()
                    .Where(k => keys.Contains(k.Id) && k.RevokedAt != null).Select(k => k.Id)
                        .ToListAsync(stoppingToken);
                foreach (var id in revoked)
                    if (open.Close(id) is > 0 and var closed)
                        logger.LogInformation("Closed {Count} open requests of revoked key {KeyId}", closed, id);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Cannot look for revoked keys among open requests: {Message}", ex.Message);
            }
        }
    }
}
