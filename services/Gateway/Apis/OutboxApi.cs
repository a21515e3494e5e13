using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Security;
using Yarp.ReverseProxy;

namespace Gateway.Apis;

/// <summary>
/// A page of every outbox's rows in one list, each row naming its outbox, newest first; the outboxes that did not
/// answer are named (their rows are missing from this page, not from the next).
/// </summary>
public sealed record OutboxOverview(IReadOnlyList<JsonObject> Items, string? NextCursor,
    IReadOnlyList<string> Unanswered);

/// <summary>Where a page of the overview ended: rows are ordered by creation time (newest first), then outbox name,
/// then id (highest first).</summary>
public sealed record OverviewPosition(DateTimeOffset At, string Service, long Id);

/// <summary>
/// The outboxes of all services with one (admins only): the gateway asks each service's own /api/admin/outbox, at the
/// address its YARP cluster has, as the calling admin, and merges the answers. A parked row is retried at its service.
/// </summary>
public static class OutboxApi
{
    /// <summary>Each outbox: the name rows carry, the cluster that holds it and its admin path there (the registry's
    /// lives in Training).</summary>
    public static readonly IReadOnlyList<(string Name, string Cluster, string Path)> Outboxes =
    [
        ("ingestion", "ingestion", OutboxAdminApi.DefaultPath),
        ("tokenization", "tokenization", OutboxAdminApi.DefaultPath),
        ("training", "training", OutboxAdminApi.DefaultPath),
        ("registry", "training", OutboxAdminApi.ModulePath("registry")),
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

    /// <summary>
    /// One page of the merged outboxes (limit, cursor). Each outbox is asked for a page that starts where the merged
    /// order left off (its own cursor, derived from the overview's), so a page never repeats or skips a row.
    /// </summary>
    private static async Task<Results<Ok<OutboxOverview>,
        ProblemHttpResult>> ListAsync(HttpContext http, string? state, int? limit, string? cursor,
        IProxyStateLookup proxy, IHttpClientFactory clients, CallerSignature signature,
        CancellationToken cancellationToken)
    {
        state ??= OutboxStates.Parked;
        var (take, after, errors) = OutboxAdminApi.ReadQuery<OverviewPosition>(state, limit, cursor);
        if (!errors.IsValid)
            return Pages.Invalid(errors);
        var answers = await Task.WhenAll(Outboxes.Select(async outbox =>
        {
            var service = outbox.Name;
            var query = $"?state={state}&limit={take}"
                + (after is null ? "" : $"&cursor={Pages.Encode(ContinuationOf(after, service))}");
            try
            {
                using var response = await SendAsync(http, outbox.Cluster, HttpMethod.Get, outbox.Path + query, proxy,
                    clients, signature, cancellationToken);
                if (!response.IsSuccessStatusCode)
                    return (service, page: (JsonObject?)null);
                return (service, page: await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken));
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException
                && !cancellationToken.IsCancellationRequested)
            {
                return (service, page: (JsonObject?)null);
            }
        }));
        var merged = answers.Where(a => a.page?["items"] is JsonArray)
            .SelectMany(a => a.page!["items"]!.AsArray().OfType<JsonObject>().Select(row =>
            {
                var copy = (JsonObject)row.DeepClone();
                copy.Insert(0, "service", a.service);
                return copy;
            }))
            .OrderByDescending(r => r["createdAt"]!.GetValue<DateTimeOffset>())
            .ThenBy(r => r["service"]!.GetValue<string>(), StringComparer.Ordinal)
            .ThenByDescending(r => r["id"]!.GetValue<long>())
            .ToList();
        var more = merged.Count > take || answers.Any(a => a.page?["nextCursor"] is not null);
        var items = merged.Take(take).ToList();
        var next = more && items.Count > 0
            ? Pages.Encode(new OverviewPosition(items[^1]["createdAt"]!.GetValue<DateTimeOffset>(),
            items[^1]["service"]!.GetValue<string>(), items[^1]["id"]!.GetValue<long>()))
            : null;
        return TypedResults.Ok(new OutboxOverview(items, next,
            answers.Where(a => a.page?["items"] is not JsonArray).Select(a => a.service).ToList()));
    }

    /// <summary>
    /// Where one outbox continues after the overview's last row: rows created before it, and at the same instant those
    /// that sort after it (a later outbox name: all of them; the same outbox: lower ids; an earlier name: none).
    /// </summary>
    public static OutboxPosition ContinuationOf(OverviewPosition last, string service)
    {
        var order = string.CompareOrdinal(service, last.Service);
        return new OutboxPosition(last.At, order == 0 ? last.Id : order > 0 ? long.MaxValue : long.MinValue);
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> RetryAsync(HttpContext http,
        string service, long id, IProxyStateLookup proxy, IHttpClientFactory clients, CallerSignature signature,
        CancellationToken cancellationToken)
    {
        if (Outboxes.FirstOrDefault(o => o.Name == service) is not { Name: not null } outbox)
            return Problems.Invalid("service", $"must be one of {string.Join(", ", Services)}.");
        try
        {
            using var response = await SendAsync(http, outbox.Cluster, HttpMethod.Post, $"{outbox.Path}/{id}/retry",
                proxy, clients, signature, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return TypedResults.Content(body, response.Content.Headers.ContentType?.ToString() ?? "application/json",
                statusCode: (int)response.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException
            && !cancellationToken.IsCancellationRequested)
        {
            return TypedResults.Problem(statusCode: (int)HttpStatusCode.ServiceUnavailable,
                title: $"The {service} service did not answer.");
        }
    }

    private static Task<HttpResponseMessage> SendAsync(HttpContext http, string clusterId, HttpMethod method,
        string pathAndQuery,
        IProxyStateLookup proxy, IHttpClientFactory clients, CallerSignature signature,
        CancellationToken cancellationToken)
    {
        if (!proxy.TryGetCluster(clusterId, out var cluster)
            || cluster.Destinations.Values.FirstOrDefault() is not { } destination)
            throw new HttpRequestException($"No destination is configured for the {clusterId} cluster.");
        var request = new HttpRequestMessage(method, new Uri(new Uri(destination.Model.Config.Address), pathAndQuery));
        request.Headers.Add(CallerSignature.HeaderName,
            signature.Sign(http.Caller(), SignedRequest.For(request, clusterId)));
        return clients.CreateClient(nameof(OutboxApi)).SendAsync(request, cancellationToken);
    }
}
