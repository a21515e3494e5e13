using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Gateway.Access;

/// <summary>
/// A token bucket of failed authentications per client address (System.Threading.RateLimiting's partitioned limiter).
/// A failure takes a token; an address with none left has its presented key refused before any lookup, so a client
/// guessing keys costs a hash and a database query only up to the bucket's rate.
/// </summary>
public sealed class FailedAuthentications : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly TimeSpan _refill;

    public FailedAuthentications(IOptions<RateLimitOptions> options)
    {
        var o = options.Value;
        _refill = TimeSpan.FromSeconds(1.0 / Math.Max(1, o.FailedAuthenticationsPerSecond));
        _limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetTokenBucketLimiter(
            address, _ => KeyRateLimits.Bucket(o.FailedAuthenticationsPerSecond, o.FailedAuthenticationsBurst)));
    }

    /// <summary>Whether the address has spent its failures; if so, when it may try again.</summary>
    public bool IsExhausted(string address, out TimeSpan retryAfter)
    {
        // Whole tokens left, without taking one: the bucket refills continuously, so asking for zero permits would
        // answer yes whenever a fraction of a token has come back.
        retryAfter = _refill;
        return _limiter.GetStatistics(address) is { CurrentAvailablePermits: < 1 };
    }

    public void Record(string address)
    {
        using var _ = _limiter.AttemptAcquire(address, 1);
    }

    public void Dispose() => _limiter.Dispose();
}
