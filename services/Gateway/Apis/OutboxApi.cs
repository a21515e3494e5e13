using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Security;
using Yarp.ReverseProxy;

namespace Gateway.Apis;

/// <summary>Every service's outbox rows in one list, each row naming its service; services that did not answer are named too.</summary>
public sealed record OutboxOverview(IReadOnlyList<JsonObject> Rows, IReadOnlyList<string> Unanswered);

/// <summary>
/// The outboxes of all services with one (admins only): the gateway asks each service's own /api/admin/outbox, at the
/// address its YARP cluster has, as the calling admin, and merges the answers. A parked row is retried at its service.
/// </summary>
public static class OutboxApi
{
    /// <summary>Each outbox: the name rows carry, the cluster that holds it and its admin path there (the registry's lives in Training).</summary>
    public static readonly IReadOnlyList<(string Name, string Cluster, string Path)> Outboxes =
    [
        ("ingestion", "ingestion", OutboxAdminApi.DefaultPath),
        ("tokenization", "tokenization", OutboxAdminApi.DefaultPath),
        ("training", "training", OutboxAdminApi.DefaultPath),
        ("registry", "training", "/api/admin/registry-outbox"),
        ("evaluation", "evaluation", OutboxAdminApi.DefaultPath),
    ];

    public static IEnumerable<string> Services => Outboxes.Select(o => o.Name);

    public static IEndpointRouteBuilder MapOutboxApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/outbox").WithTags("Outbox").RequireAuthorization(Roles.Admin);
        group.MapGet("", ListAsync);
        group.MapPost("/{service}/{id:long}/retry", RetryAsync);
        return app;
    }

    public static IHostApplicationBuilder AddOutboxApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient(nameof(OutboxApi), c => c.Timeout = TimeSpan.FromSeconds(10));
        return builder;
    }

    private static async Task<Results<Ok<OutboxOverview>, ValidationProblem>> ListAsync(HttpContext http, string? state, int? limit,
        IProxyStateLookup proxy, IHttpClientFactory clients, CallerSignature signature, CancellationToken cancellationToken)
    {
        state ??= OutboxStates.Parked;
        if (OutboxAdminApi.InvalidQuery(state, limit) is { } errors)
            return TypedResults.ValidationProblem(errors);
        var query = $"?state={state}&limit={limit ?? OutboxAdminApi.DefaultLimit}";
        var answers = await Task.WhenAll(Outboxes.Select(async outbox =>
        {
            var service = outbox.Name;
            try
            {
                using var response = await SendAsync(http, outbox.Cluster, HttpMethod.Get, outbox.Path + query, proxy, clients, signature, cancellationToken);
                if (!response.IsSuccessStatusCode)
                    return (service, rows: (JsonArray?)null);
                var page = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
                return (service, rows: page?["rows"] as JsonArray);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return (service, rows: (JsonArray?)null);
            }
        }));
        var rows = answers.Where(a => a.rows is not null)
            .SelectMany(a => a.rows!.OfType<JsonObject>().Select(row =>
            {
                var copy = (JsonObject)row.DeepClone();
                copy.Insert(0, "service", a.service);
                return copy;
            }))
            .OrderByDescending(r => r["createdAt"]?.GetValue<DateTimeOffset>())
            .ToList();
        return TypedResults.Ok(new OutboxOverview(rows, answers.Where(a => a.rows is null).Select(a => a.service).ToList()));
    }

    private static async Task<IResult> RetryAsync(HttpContext http, string service, long id, IProxyStateLookup proxy, IHttpClientFactory clients,
        CallerSignature signature, CancellationToken cancellationToken)
    {
        if (Outboxes.FirstOrDefault(o => o.Name == service) is not { Name: not null } outbox)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["service"] = [$"must be one of {string.Join(", ", Services)}."] });
        try
        {
            using var response = await SendAsync(http, outbox.Cluster, HttpMethod.Post, $"{outbox.Path}/{id}/retry", proxy, clients, signature, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return Results.Content(body, response.Content.Headers.ContentType?.ToString() ?? "application/json", statusCode: (int)response.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return TypedResults.Problem(statusCode: (int)HttpStatusCode.ServiceUnavailable, title: $"The {service} service did not answer.");
        }
    }

    private static Task<HttpResponseMessage> SendAsync(HttpContext http, string clusterId, HttpMethod method, string pathAndQuery,
        IProxyStateLookup proxy, IHttpClientFactory clients, CallerSignature signature, CancellationToken cancellationToken)
    {
        if (!proxy.TryGetCluster(clusterId, out var cluster) || cluster.Destinations.Values.FirstOrDefault() is not { } destination)
            throw new HttpRequestException($"No destination is configured for the {clusterId} cluster.");
        var request = new HttpRequestMessage(method, new Uri(new Uri(destination.Model.Config.Address), pathAndQuery));
        request.Headers.Add(CallerSignature.HeaderName, signature.Sign(http.Caller()));
        return clients.CreateClient(nameof(OutboxApi)).SendAsync(request, cancellationToken);
    }
}
