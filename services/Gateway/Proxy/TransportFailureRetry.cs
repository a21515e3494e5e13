using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy;

/// <summary>
/// For clusters whose metadata sets <c>RetryOnTransportFailure</c> to <c>true</c> (Generation's: its requests change
/// nothing, so sending one twice is safe): a request that fails before any response reached the caller, because its
/// replica refused the connection or died while working on it, is sent again to another healthy replica. YARP has no
/// retries of its own; without this, a killed replica fails every request sent to it until its health checks notice.
/// </summary>
public static class TransportFailureRetry
{
    public const string MetadataKey = "RetryOnTransportFailure";

    public static IReverseProxyApplicationBuilder UseTransportFailureRetry(
        this IReverseProxyApplicationBuilder pipeline)
    {
        pipeline.Use(async (context, next) =>
        {
            var proxy = context.GetReverseProxyFeature();
            if (proxy.Cluster.Config.Metadata?.GetValueOrDefault(MetadataKey) != "true")
            {
                await next();
                return;
            }
            context.Request.EnableBuffering();
            var candidates = proxy.AvailableDestinations.ToList();
            while (true)
            {
                proxy.AvailableDestinations = candidates;
                await next();
                var error = context.Features.Get<IForwarderErrorFeature>();
                var failed = proxy.ProxiedDestination;
                if (error?.Error is not (ForwarderError.Request or ForwarderError.RequestTimedOut)
                    || context.Response.HasStarted ||
                    failed is null || context.RequestAborted.IsCancellationRequested)
                    return;
                candidates = candidates.Where(d => d != failed).ToList();
                if (candidates.Count == 0)
                    return;
                context.Features.Set<IForwarderErrorFeature?>(null);
                context.Response.Clear();
                context.Request.Body.Position = 0;
            }
        });
        return pipeline;
    }
}
