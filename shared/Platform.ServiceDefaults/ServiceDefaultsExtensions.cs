using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Platform.ServiceDefaults.Security;
using Platform.Storage;

namespace Platform.ServiceDefaults;

public static class ServiceDefaultsExtensions
{
    public const string ReadyTag = "ready";

    /// <summary>Logging, problem details, JSON conventions, health checks and tracing: what every service
    /// has.</summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.AddConsoleLogging();

        // Ahead of the default writer: OpenAI's routes answer OpenAI's error envelope.
        builder.Services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IProblemDetailsWriter, Http.OpenAIErrorWriter>());
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
            ctx.ProblemDetails.Extensions.TryAdd("traceId", ctx.HttpContext.TraceIdentifier));
        builder.Services.AddExceptionHandler<Persistence.DatabaseExceptionHandler>();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        });
        builder.Services.HideArtifactKeys();

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), tags: ["live"]);
        // Each service describes its own endpoints (typed results describe their responses); the gateway merges them.
        builder.Services.AddOpenApi();

        builder.AddTracing();
        return builder;
    }

    /// <summary>The shared artifact store (Artifacts:Root), for services that read or write artifacts, with its staging
    /// area swept.</summary>
    public static IHostApplicationBuilder AddArtifactStore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddArtifactStore(builder.Configuration);
        builder.Services.Configure<Storage.StagingSweepOptions>(
            builder.Configuration.GetSection(Storage.StagingSweepOptions.Section));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<Storage.StagingSweeper>();
        return builder;
    }

    /// <summary>
    /// Logging:Format "text" (the default): one line an entry, for a person at a terminal. "json": one JSON object an
    /// entry, for a log store, with the trace and span ids of the request or message being handled under
    /// <c>Scopes</c>, so an entry leads to its trace.
    /// </summary>
    private static void AddConsoleLogging(this IHostApplicationBuilder builder)
    {
        var format = builder.Configuration["Logging:Format"] ?? "text";
        switch (format)
        {
            case "text":
                builder.Logging.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss ";
                });
                break;
            case "json":
                builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId
                    | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
                builder.Logging.AddJsonConsole(o =>
                {
                    o.IncludeScopes = true;
                    o.UseUtcTimestamp = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                });
                break;
            default:
                throw new InvalidOperationException($"Logging:Format is '{format}'; it must be text or json.");
        }
    }

    /// <summary>The platform's own trace sources and meters ("Platform.Outbox", "Platform.Training",
    /// "Platform.Generation").</summary>
    public const string PlatformTelemetry = "Platform.*";

    // Traces and metrics are always collected in-process. Traces leave it only when an OTLP endpoint is configured
    // (OTEL_EXPORTER_OTLP_ENDPOINT); metrics are scraped at /metrics (Prometheus text) and also go to OTLP when
    // configured.
    private static void AddTracing(this IHostApplicationBuilder builder)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Environment.ApplicationName))
            .WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !IsHealthOrMetrics(ctx.Request.Path))
                .AddHttpClientInstrumentation()
                .AddSource("MassTransit", PlatformTelemetry))
            .WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("MassTransit", "Npgsql", "Microsoft.EntityFrameworkCore", "Microsoft.AspNetCore.RateLimiting",
                PlatformTelemetry)
                .AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            otel.UseOtlpExporter();
    }

    private static bool IsHealthOrMetrics(PathString path) => path.StartsWithSegments("/health")
        || path.StartsWithSegments("/metrics");

    /// <summary>
    /// /health/live answers while the process runs; /health/ready only when its database and broker answer. Both
    /// are open to anyone (no key, no rate limit) and say only whether the service works; which check failed, and why,
    /// is shown to an admin caller alone.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = c => c.Tags.Contains("live") })
            .AllowAnonymous().DisableRateLimiting();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(ReadyTag),
            ResponseWriter = WriteHealthReport,
        }).AllowAnonymous().DisableRateLimiting();
        // Prometheus text; like every route but health it needs a caller (the gateway routes /metrics/{service} here).
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization().DisableRateLimiting();
        // /openapi/v1.json, for the gateway's merged document; like every route but health it needs a caller.
        app.MapOpenApi().RequireAuthorization().DisableRateLimiting();
        return app;
    }

    /// <summary>
    /// A service behind the gateway: authenticate the gateway's signed caller, authorize, and require the role the
    /// route table gives the request's route, as the gateway did: a validly signed caller of too weak a role (another
    /// pod, a leaked secret's holder with a viewer's identity) is refused here too.
    /// </summary>
    public static WebApplication UseGatewayCallers(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        var routes = app.Services.GetRequiredService<RouteRoles>();
        app.Use(async (context, next) =>
        {
            if (Caller.From(context.User) is { } caller
                && !RouteRoles.Allows(routes.RoleFor(context.Request.Method, context.Request.Path), caller.Role))
            {
                await AccessProblems.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden.",
                    $"The role '{caller.Role}' may not {context.Request.Method} {context.Request.Path}.");
                return;
            }
            await next(context);
        });
        return app;
    }

    private static Task WriteHealthReport(HttpContext context, HealthReport report) =>
        Caller.From(context.User) is { IsAdmin: true }
            ? context.Response.WriteAsJsonAsync(new
            {
                status = report.Status.ToString(),
                checks = report.Entries.ToDictionary(e => e.Key,
                    e => new { status = e.Value.Status.ToString(), e.Value.Description }),
            })
            : context.Response.WriteAsJsonAsync(new { status = report.Status.ToString() });
}
