using System.Text.Json.Nodes;
using Gateway.Docs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Platform.ServiceDefaults.Security;
using Scalar.AspNetCore;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Apis;

/// <summary>
/// GET /openapi.json: the gateway's own document merged with each service's (fetched from the service, signed as the
/// gateway), limited to what the gateway forwards. GET /docs: Scalar's reference for it, its page and script served
/// from the package (no CDN); the page asks once for a key, keeps it for the browser session and sends it on its calls.
/// </summary>
public static class DocsApi
{
    public const string ApiKeyStorage = "platform.apiKey";

    public static IHostApplicationBuilder AddApiDocuments(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient(nameof(DocsApi), c => c.Timeout = TimeSpan.FromSeconds(10));
        return builder;
    }

    public static IEndpointRouteBuilder MapDocsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/openapi.json", GetDocumentAsync).RequireAuthorization(Roles.Viewer).ExcludeFromDescription();
        app.MapScalarApiReference("/docs", o => o
                .WithTitle("Platform API")
                .WithOpenApiRoutePattern("/openapi.json")
                .AddHeaderContent(KeyScript))
            .AllowAnonymous();
        return app;
    }

    // Same-origin calls from the page (the document, and "try it") carry the key the user gave once for this browser
    // session.
    private const string KeyScript = $$"""
        <script>
        (function () {
          var key = sessionStorage.getItem('{{ApiKeyStorage}}');
          if (!key) {
            key = window.prompt('API key (plk_…) for the Platform API');
            if (key) sessionStorage.setItem('{{ApiKeyStorage}}', key);
          }
          var original = window.fetch;
          window.fetch = function (input, init) {
            var url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url, location.href);
            if (key && url.origin === location.origin) {
              init = Object.assign({}, init);
              var headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
              if (!headers.has('Authorization') && !headers.has('X-Api-Key'))
                headers.set('Authorization', 'Bearer ' + key);
              init.headers = headers;
            }
            return original.call(this, input, init);
          };
        })();
        </script>
        """;

    private static async Task<Results<ContentHttpResult,
        ProblemHttpResult>> GetDocumentAsync(HttpContext http, IProxyConfigProvider proxy,
        IHttpClientFactory clients, CallerSignature signature, [FromKeyedServices("v1")] IOpenApiDocumentProvider own,
        CancellationToken cancellationToken)
    {
        var config = proxy.GetConfig();
        var client = clients.CreateClient(nameof(DocsApi));
        var services = new Dictionary<string, JsonObject>();
        var missing = new List<string>();
        foreach (var cluster in config.Clusters)
        {
            var address = cluster.Destinations?.Values.FirstOrDefault()?.Address;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get,
                    new Uri(new Uri(address!), "/openapi/v1.json"));
                request.Headers.Add(CallerSignature.HeaderName, signature.Sign(new ServiceName("gateway").AsCaller(),
                    SignedRequest.For(request, cluster.ClusterId)));
                using var response = await client.SendAsync(request, cancellationToken);
                response.EnsureSuccessStatusCode();
                services[cluster.ClusterId] = JsonNode.Parse(
                    await response.Content.ReadAsStringAsync(cancellationToken))!.AsObject();
            }
            catch (Exception ex) when (
                ex is HttpRequestException or TaskCanceledException or UriFormatException or ArgumentNullException
                                       or System.Text.Json.JsonException && !cancellationToken.IsCancellationRequested)
            {
                missing.Add(cluster.ClusterId);
            }
        }
        if (missing.Count > 0)
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "The API document is incomplete.",
                detail: $"Not answering: {string.Join(", ", missing)}.");

        var gateway = JsonNode.Parse(
            await (await own.GetOpenApiDocumentAsync(cancellationToken)).SerializeAsJsonAsync(
            OpenApiSpecVersion.OpenApi3_1, cancellationToken))!.AsObject();
        var routes = config.Routes.Select(r =>
            new ForwardedRoute(r.RouteId, r.ClusterId ?? "", r.Match.Path ?? "", r.Match.Methods?.ToList(),
            r.Transforms?.SelectMany(t => t).FirstOrDefault(t => t.Key == "PathSet").Value)).ToList();
        var merged = ApiDocumentMerger.Merge(gateway, services, routes);
        return TypedResults.Content(merged.ToJsonString(), "application/json");
    }
}
