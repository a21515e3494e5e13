using Microsoft.Extensions.Diagnostics.HealthChecks;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Proxy;

/// <summary>
/// The gateway is ready when every service behind it answers its own /health/ready: for a service with several
/// replicas (destinations), when one of them does, since the gateway sends requests only to those that answer. A
/// cluster with no destination (its address not configured) is not ready. Anyone may ask, so the answer is shared:
/// callers within <see cref="Freshness"/> of a check (or while one runs) get its result, and a flood of anonymous
/// probes makes one round of requests to the services a second, not one each.
/// </summary>
public sealed class BackendsHealthCheck(IProxyConfigProvider proxy, IHttpClientFactory clients, TimeProvider clock)
    : IHealthCheck
{
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private (Task<HealthCheckResult> Check, DateTimeOffset StartedAt)? _last;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context,
        CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            if (_last is not { } last || last.Check.IsCompleted && now - last.StartedAt >= Freshness)
                // Not the caller's token: the check is shared, and one caller going away must not cancel it for others.
                _last = last = (AskServicesAsync(CancellationToken.None), now);
            return last.Check.WaitAsync(cancellationToken);
        }
    }

    private async Task<HealthCheckResult> AskServicesAsync(CancellationToken cancellationToken)
    {
        var http = clients.CreateClient(nameof(BackendsHealthCheck));
        var clusters = proxy.GetConfig().Clusters;
        var unconfigured = clusters.Where(c => c.Destinations is not { Count: > 0 }).Select(c => c.ClusterId).ToList();
        if (unconfigured.Count > 0)
            return HealthCheckResult.Unhealthy($"no address configured for: {string.Join(", ", unconfigured)}");
        var destinations = clusters
            .SelectMany(c =>
            (c.Destinations ?? new Dictionary<string, DestinationConfig>()).Select(d =>
            (Cluster: c.ClusterId, d.Value.Address)))
            .ToList();
        var results = await Task.WhenAll(destinations.Select(async d =>
        {
            try
            {
                using var response = await http.GetAsync(new Uri(new Uri(d.Address), "/health/ready"),
                    cancellationToken);
                return (d.Cluster, Ready: response.IsSuccessStatusCode);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                return (d.Cluster, Ready: false);
            }
        }));
        var notReady = results.GroupBy(r => r.Cluster).Where(g => !g.Any(r => r.Ready)).Select(g => g.Key).ToList();
        return notReady.Count == 0
            ? HealthCheckResult.Healthy($"{results.Count(r => r.Ready)} of {results.Length} destinations ready")
            : HealthCheckResult.Unhealthy($"not ready: {string.Join(", ", notReady)}");
    }
}
