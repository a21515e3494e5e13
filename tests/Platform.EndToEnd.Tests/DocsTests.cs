using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Platform.EndToEnd.Tests;

/// <summary>The merged OpenAPI document and the /docs reference, through the gateway.</summary>
[Collection(PlatformCollection.Name)]
public sealed class DocsTests(PlatformStack stack)
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    private static async Task<JsonObject> DocumentAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/openapi.json");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"/openapi.json answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static IEnumerable<(string Path, string Method)> Operations(JsonObject document) =>
        document["paths"]!.AsObject().SelectMany(p =>
        p.Value!.AsObject().Where(o => Methods.Contains(o.Key)).Select(o => (p.Key, o.Key)));

    /// <summary>
    /// A path of the document with its parameters filled with values that name nothing (so nothing is changed): numbers
    /// where the parameter is an integer, GUIDs where it is a uuid.
    /// </summary>
    private static string Concrete(string path, JsonNode operation) => Regex.Replace(path, "{([^}:]+)[^}]*}", m =>
    {
        var name = m.Groups[1].Value;
        var schema = operation["parameters"]?.AsArray().FirstOrDefault(p =>
            p!["name"]?.GetValue<string>() == name)?["schema"];
        var type = schema?["type"]?.ToJsonString() ?? "";
        return type.Contains("integer") ? "999999"
            : schema?["format"]?.GetValue<string>() == "uuid" ? Guid.NewGuid().ToString()
            : name == "alias" ? "nowhere"
            : name == "service" ? "training"
            : "no-such-thing";
    });

    [Fact]
    public async Task The_merged_document_needs_a_key_and_every_operation_in_it_answers_through_the_gateway()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await stack.Anonymous.GetAsync("/openapi.json")).StatusCode);
        var (_, viewerKey) = await Api.CreateKeyAsync(stack.Gateway, "docs-viewer", "viewer");
        using var viewer = PlatformStack.ClientWithKey(viewerKey);
        var document = await DocumentAsync(viewer);
        var operations = Operations(document).ToList();
        // Something from each service and from the gateway itself.
        foreach (var (path, method) in new[] { ("/api/keys", "post"), ("/api/datasets", "post"),
            ("/api/runs/{id}", "patch"), ("/api/models/{name}/aliases/{alias}", "put"),
                     ("/api/evaluations", "post"), ("/api/generate", "post"), ("/v1/models", "get"),
                     ("/api/tokenizers", "get"), ("/metrics/training", "get") })
            Assert.Contains(operations, o => o.Method == method
                && Regex.Replace(o.Path, "{[^}]+}", "{}") == Regex.Replace(path, "{[^}]+}", "{}"));
        Assert.DoesNotContain(operations, o => o.Path.StartsWith("/health") || o.Path == "/metrics"
            || o.Path.StartsWith("/openapi"));
        // Every $ref resolves in the merged components.
        var schemas = document["components"]!["schemas"]!.AsObject();
        foreach (Match reference in Regex.Matches(document.ToJsonString(),
            "\"\\$ref\":\"#/components/schemas/([^\"]+)\""))
            Assert.True(schemas.ContainsKey(reference.Groups[1].Value), $"{reference.Value} resolves to nothing");

        var failures = new List<string>();
        foreach (var (path, method) in operations)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()),
                Concrete(path, document["paths"]![path]![method]!));
            if (method is "post" or "put" or "patch")
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            using var response = await stack.Gateway.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var json = response.Content.Headers.ContentType?.MediaType?.Contains("json") == true
                && body.StartsWith('{') ? JsonNode.Parse(body) : null;
            // An RFC 7807 title, or on OpenAI's routes its error envelope's message.
            var title = json?["title"]?.ToString() ?? json?["error"]?["message"]?.ToString();
            // A handler answered: not a server error, not "no such route" (a routing 404 is titled plain "Not Found"),
            // not a wrong method.
            if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.MethodNotAllowed
                || response.StatusCode == HttpStatusCode.NotFound && (title is null or "Not Found"))
                failures.Add($"{method.ToUpperInvariant()} {path}: {(int)response.StatusCode} " +
                    $"{body[..Math.Min(200, body.Length)]}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Every_route_the_gateway_forwards_is_in_the_document()
    {
        var document = await DocumentAsync(stack.Gateway);
        var operations = Operations(document).ToList();
        var table = Path.Combine(PlatformStack.RepoRoot, "shared", "Platform.ServiceDefaults", "Security",
            "routes.json");
        var config = JsonNode.Parse(File.ReadAllText(table))!;
        var missing = new List<string>();
        foreach (var (id, route) in config["ReverseProxy"]!["Routes"]!.AsObject())
        {
            var pattern = route!["Match"]!["Path"]!.GetValue<string>();
            var prefix = pattern.Replace("/{**rest}", "");
            var methods = route["Match"]!["Methods"]?.AsArray().Select(m =>
                m!.GetValue<string>().ToLowerInvariant()).Where(m => m != "head").ToList() ?? ["get"];
            foreach (var method in methods)
                if (!operations.Any(o => o.Method == method
                    && (o.Path == prefix || pattern.EndsWith("{**rest}") && o.Path.StartsWith(prefix + "/"))))
                    missing.Add($"{id}: {method.ToUpperInvariant()} {pattern}");
        }
        Assert.True(missing.Count == 0, "forwarded but not documented:\n" + string.Join("\n", missing));
    }

    [Fact]
    public async Task The_docs_page_and_its_script_are_served_without_a_key_and_from_the_gateway_itself()
    {
        using var page = await stack.Anonymous.GetAsync("/docs/");
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"/docs/ answered {(int)page.StatusCode}: {html}");
        Assert.True(html.Contains("openapi.json"), html);
        Assert.DoesNotContain("cdn.", html);
        var scripts = Regex.Matches(html, "<script[^>]+src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        var largest = 0;
        foreach (var script in scripts)
        {
            Assert.False(script.StartsWith("http"), $"{script} is fetched from elsewhere");
            using var response = await stack.Anonymous.GetAsync(new Uri(new Uri(PlatformStack.GatewayAddress, "/docs/"),
                script));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{script} answered {(int)response.StatusCode}");
            largest = Math.Max(largest, (await response.Content.ReadAsByteArrayAsync()).Length);
        }
        // The reference itself (megabytes of JavaScript) comes from the gateway, not a CDN.
        Assert.True(largest > 500_000, $"the largest script is {largest} bytes: {string.Join(", ", scripts)}");
    }
}
