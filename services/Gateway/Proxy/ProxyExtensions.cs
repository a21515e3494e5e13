using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Security;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Proxy;

public static class ProxyExtensions
{
    /// <summary>
    /// The largest request any service takes (an import: 2 GiB of weights, plus its tokenizer and the multipart
    /// framing), so no documented limit is cut short at the door.
    /// </summary>
    public const long DefaultMaxRequestBodyBytes = (2L << 30) + (64L << 20);

    /// <summary>
    /// YARP routes (the shared route table, <see cref="RouteTable"/>: each route names the role it needs and, for
    /// generation, its rate-limit policy) and clusters from the ReverseProxy section; backends' readiness is the
    /// gateway's readiness. Every forwarded request carries the caller's identity signed with the internal secret for
    /// that request, and never the caller's API key.
    /// </summary>
    public static IHostApplicationBuilder AddProxy(this IHostApplicationBuilder builder)
    {
        builder.Configuration.AddRouteTable();
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddTransforms(transforms =>
            {
                // The cluster is the service the signature is for; the path, the one it will receive (after PathSet).
                var service = transforms.Route.ClusterId ?? "";
                transforms.AddRequestTransform(context =>
                {
                    var headers = context.ProxyRequest.Headers;
                    headers.Authorization = null;
                    headers.Remove(Access.ApiKeyAuthenticationHandler.HeaderName);
                    headers.Remove(CallerSignature.HeaderName);
                    if (Caller.From(context.HttpContext.User) is { } caller)
                        headers.Add(CallerSignature.HeaderName, context.HttpContext.RequestServices
                            .GetRequiredService<CallerSignature>()
                            .Sign(caller, new SignedRequest(context.HttpContext.Request.Method,
                                context.Path.Value ?? "/", service)));
                    return ValueTask.CompletedTask;
                });
            });
        builder.Services.AddHttpClient(nameof(BackendsHealthCheck), c => c.Timeout = TimeSpan.FromSeconds(5));
        // One instance, so callers within a second share its answer (see BackendsHealthCheck).
        builder.Services.AddSingleton<BackendsHealthCheck>();
        builder.Services.AddHealthChecks().AddCheck<BackendsHealthCheck>("services",
            tags: [ServiceDefaultsExtensions.ReadyTag]);
        // The gateway only bounds the request size generously (uploads); each service enforces its own documented
        // limit.
        var maxBody = builder.Configuration.GetValue<long?>("Gateway:MaxRequestBodyBytes")
                      ?? DefaultMaxRequestBodyBytes;
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(k =>
            k.Limits.MaxRequestBodySize = maxBody);
        return builder;
    }
}
