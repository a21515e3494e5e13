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
    public static readonly string[] Services = ["ingestion", "tokenization", "training", "evaluation"];

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
        var query = $"/api/admin/outbox?state={state}&limit={limit ?? OutboxAdminApi.DefaultLimit}";
        var answers = await Task.WhenAll(Services.Select(async service =>
        {
            try
            {
                using var response = await SendAsync(http, service, HttpMethod.Get, query, proxy, clients, signature, cancellationToken);
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
        if (!Services.Contains(service))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["service"] = [$"must be one of {string.Join(", ", Services)}."] });
        try
        {
            using var response = await SendAsync(http, service, HttpMethod.Post, $"/api/admin/outbox/{id}/retry", proxy, clients, signature, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return Results.Content(body, response.Content.Headers.ContentType?.ToString() ?? "application/json", statusCode: (int)response.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return TypedResults.Problem(statusCode: (int)HttpStatusCode.ServiceUnavailable, title: $"The {service} service did not answer.");
        }
    }

    private static Task<HttpResponseMessage> SendAsync(HttpContext http, string service, HttpMethod method, string pathAndQuery,
        IProxyStateLookup proxy, IHttpClientFactory clients, CallerSignature signature, CancellationToken cancellationToken)
    {
        if (!proxy.TryGetCluster(service, out var cluster) || cluster.Destinations.Values.FirstOrDefault() is not { } destination)
            throw new HttpRequestException($"No destination is configured for the {service} cluster.");
        var request = new HttpRequestMessage(method, new Uri(new Uri(destination.Model.Config.Address), pathAndQuery));
        request.Headers.Add(CallerSignature.HeaderName, signature.Sign(http.Caller()));
        return clients.CreateClient(nameof(OutboxApi)).SendAsync(request, cancellationToken);
    }
}
