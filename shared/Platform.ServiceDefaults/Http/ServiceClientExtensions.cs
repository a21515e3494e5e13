using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Platform.ServiceDefaults.Security;

namespace Platform.ServiceDefaults.Http;

public static class ServiceClientExtensions
{
    /// <summary>
    /// A typed client for another service at Services:{name} (required): its calls are signed as this service and
    /// retried on transient failures with timeouts (Microsoft.Extensions.Http.Resilience's standard handler, with a
    /// 5 s attempt and 15 s total budget: these are quick lookups a user is waiting on).
    /// </summary>
    public static IHostApplicationBuilder AddServiceClient<TClient>(this IHostApplicationBuilder builder,
        string name) where TClient : class
    {
        var address = builder.Configuration[$"Services:{name}"]
            ?? throw new InvalidOperationException(
            $"Services:{name} (e.g. Services__{name}=http://127.0.0.1:8083) is " +
            $"not configured.");
        builder.Services.AddHttpClient<TClient>(http => http.BaseAddress = new Uri(address))
            .AddHttpMessageHandler(services => new ServiceIdentityHandler(
                services.GetRequiredService<CallerSignature>(), services.GetRequiredService<ServiceName>(),
                name.ToLowerInvariant()))
            .AddStandardResilienceHandler(o =>
            {
                o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(5);
                o.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(15);
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(10);
            });
        return builder;
    }

    /// <summary>
    /// Whether a call through such a client failed because the other service did not answer usefully: unreachable,
    /// timed out or refused by the resilience handler (its timeouts and open circuit breaker), or an answer that is not
    /// what was asked for. The caller answers 503 rather than 500; a request its own client abandoned is not this.
    /// </summary>
    public static bool IsUnanswered(Exception exception, CancellationToken requestAborted) =>
        exception is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException
        or Polly.ExecutionRejectedException
        && !requestAborted.IsCancellationRequested;
}
