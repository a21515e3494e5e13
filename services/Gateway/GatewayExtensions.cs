using Platform.ServiceDefaults;

namespace Gateway;

public static class GatewayExtensions
{
    /// <summary>YARP routes from the ReverseProxy section; backends' readiness is the gateway's readiness.</summary>
    public static IHostApplicationBuilder AddGateway(this IHostApplicationBuilder builder)
    {
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
        builder.Services.AddHttpClient(nameof(BackendsHealthCheck), c => c.Timeout = TimeSpan.FromSeconds(5));
        builder.Services.AddHealthChecks().AddCheck<BackendsHealthCheck>("services", tags: [ServiceDefaultsExtensions.ReadyTag]);
        // The gateway only bounds the request size generously; each service enforces its own documented limit.
        var maxBody = builder.Configuration.GetValue<long?>("Gateway:MaxRequestBodyBytes") ?? 1L << 30;
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(k => k.Limits.MaxRequestBodySize = maxBody);
        return builder;
    }
}
