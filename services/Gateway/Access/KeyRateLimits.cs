using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Security;

namespace Gateway.Access;

/// <summary>
/// ASP.NET Core's rate limiter, partitioned by API key: a token bucket of requests per second for every request,
/// and, on the generation routes (the "generation" policy named in their YARP route), a cap on concurrent
/// generations. Requests without a valid key share a bucket per client address. Refusals are 429 problems with
/// Retry-After.
/// </summary>
public static class KeyRateLimits
{
    public const string GenerationPolicy = "generation";

    public static IHostApplicationBuilder AddKeyRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<RateLimitOptions>(builder.Configuration.GetSection("Gateway:RateLimits"));
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(RequestsPartition);
            limiter.AddPolicy(GenerationPolicy, GenerationsPartition);
            limiter.OnRejected = RejectAsync;
        });
        return builder;
    }

    private static RateLimitOptions Options(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;

    private static RateLimitPartition<string> RequestsPartition(HttpContext context)
    {
        var options = Options(context);
        if (context.Features.Get<AuthenticatedKey>() is { } key)
        {
            // A key's own rate comes with a burst of two seconds' worth; the defaults name theirs.
            var (rps, burst) = key.RequestsPerSecond is { } own ? (own, 2 * own)
                : (options.RequestsPerSecond, options.Burst);
            return RateLimitPartition.GetTokenBucketLimiter($"key:{key.Id}:{rps}:{burst}", _ => Bucket(rps, burst));
        }
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        return RateLimitPartition.GetTokenBucketLimiter($"anonymous:{address}", _ =>
            Bucket(options.AnonymousRequestsPerSecond, options.AnonymousBurst));
    }

    private static RateLimitPartition<string> GenerationsPartition(HttpContext context)
    {
        if (context.Features.Get<AuthenticatedKey>() is not { } key)
            return RateLimitPartition.GetNoLimiter("anonymous");
        var permits = key.MaxConcurrentGenerations ?? Options(context).ConcurrentGenerations;
        return RateLimitPartition.GetConcurrencyLimiter($"key:{key.Id}:{permits}",
            _ => new ConcurrencyLimiterOptions { PermitLimit = Math.Max(1, permits), QueueLimit = 0 });
    }

    /// <summary>A bucket of <paramref name="burst"/> tokens refilled at <paramref name="perSecond"/> a second (one at a
    /// time up to 100/s).</summary>
    public static TokenBucketRateLimiterOptions Bucket(int perSecond, int burst)
    {
        perSecond = Math.Max(1, perSecond);
        var (tokens, period) = perSecond <= 100
            ? (1, TimeSpan.FromSeconds(1.0 / perSecond))
            : ((int)Math.Round(perSecond / 10.0), TimeSpan.FromMilliseconds(100));
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, burst),
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        // Only the token bucket knows when a request would pass; the generations' concurrency limiter cannot.
        var bucket = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait);
        var retryAfter = bucket ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        await AccessProblems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many requests.", !bucket
            ? "This key already runs as many generations at once as it may; retry when one has finished."
            : $"This key has made more requests than its limit allows; retry after {retryAfter} s.");
    }
}
