using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gateway.Docs;

/// <summary>A route the gateway forwards: its cluster, its path pattern, its methods (null: any) and, for a rewrite,
/// the backend path.</summary>
public sealed record ForwardedRoute(string RouteId, string ClusterId, string Path, IReadOnlyList<string>? Methods,
    string? PathSet);

/// <summary>
/// Builds the platform's one API document from the gateway's own and each service's: only the operations a caller can
/// reach through the gateway (a forwarded route matches the path and method), schemas renamed where two services use
/// one name for different shapes, and the API key scheme on every operation.
/// </summary>
public static class ApiDocumentMerger
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

    public static JsonObject Merge(JsonObject gateway, IReadOnlyDictionary<string, JsonObject> services,
        IReadOnlyList<ForwardedRoute> routes)
    {
        var paths = new JsonObject();
        var schemas = new JsonObject();
        var tags = new List<string>();
        Add(gateway, "Gateway", _ => true);
        foreach (var (cluster, document) in services.OrderBy(s => s.Key, StringComparer.Ordinal))
            Add(document, cluster, operation =>
                routes.Any(r => r.ClusterId == cluster && r.PathSet is null
                && r.Matches(operation.Path, operation.Method)));

        // A route that rewrites its path (/metrics/training → /metrics) is described here: the services' documents do
        // not name it.
        foreach (var route in routes.Where(r => r.PathSet is not null && !r.Path.Contains('{')))
        {
            var item = paths[route.Path] as JsonObject ?? (JsonObject)(paths[route.Path] = new JsonObject());
            tags.Add("Metrics");
            foreach (var method in (route.Methods ?? ["GET"]).Select(m => m.ToLowerInvariant()).Where(m => m != "head"))
                item[method] = new JsonObject
                {
                    ["tags"] = new JsonArray("Metrics"),
                    ["summary"] = $"Prometheus metrics of the {route.ClusterId} service (text exposition format).",
                    ["responses"] = new JsonObject
                    {
                        ["200"] = new JsonObject
                        {
                            ["description"] = "OK",
                            ["content"] = new JsonObject { ["text/plain"] = new JsonObject() }
                        }
                    },
                };
        }

        var sortedPaths = new JsonObject();
        foreach (var (path, item) in paths.OrderBy(p => p.Key, StringComparer.Ordinal).ToList())
            sortedPaths[path] = item!.DeepClone();
        return new JsonObject
        {
            ["openapi"] = gateway["openapi"]?.DeepClone() ?? "3.1.1",
            ["info"] = new JsonObject
            {
                ["title"] = "Platform API",
                ["version"] = "v1",
                ["description"] = "Every route through the gateway. Send an API key as 'Authorization: Bearer <key>' " +
                "or 'X-Api-Key: <key>'; only /health/* needs none.",
            },
            ["paths"] = sortedPaths,
            ["components"] = new JsonObject
            {
                ["schemas"] = schemas,
                ["securitySchemes"] = new JsonObject
                {
                    ["apiKey"] = new JsonObject
                    {
                        ["type"] = "http",
                        ["scheme"] = "bearer",
                        ["description"] = "A platform API key (plk_…)."
                    },
                },
            },
            ["security"] = new JsonArray(new JsonObject { ["apiKey"] = new JsonArray() }),
            ["tags"] = new JsonArray([.. tags.Distinct().Order(StringComparer.Ordinal).Select(t =>
            (JsonNode)new JsonObject { ["name"] = t })]),
        };

        void Add(JsonObject document, string source, Func<(string Path, string Method), bool> reachable)
        {
            var ownSchemas = document["components"]?["schemas"] as JsonObject ?? [];
            // A schema another document already brought with a different shape is renamed after its service.
            var renames = ownSchemas.Where(s => schemas[s.Key] is { } existing
                && !JsonNode.DeepEquals(existing, s.Value))
                .ToDictionary(s => s.Key, s => $"{char.ToUpperInvariant(source[0])}{source[1..]}{s.Key}");
            var renamed = Rename(document.DeepClone(), renames).AsObject();
            var added = false;
            foreach (var (path, item) in renamed["paths"] as JsonObject ?? [])
            {
                if (item is not JsonObject operations)
                    continue;
                foreach (var (method, operation) in operations.Where(o => Methods.Contains(o.Key)).ToList())
                {
                    if (!reachable((path, method)))
                        continue;
                    var target = paths[path] as JsonObject ?? (JsonObject)(paths[path] = new JsonObject());
                    target[method] = operation!.DeepClone();
                    foreach (var tag in operation["tags"] as JsonArray ?? [])
                        tags.Add(tag!.GetValue<string>());
                    added = true;
                }
            }
            if (!added)
                return;
            foreach (var (name, schema) in renamed["components"]?["schemas"] as JsonObject ?? [])
                schemas[renames.GetValueOrDefault(name, name)] ??= schema!.DeepClone();
        }
    }

    private static JsonNode Rename(JsonNode document, IReadOnlyDictionary<string, string> renames)
    {
        if (renames.Count == 0)
            return document;
        RewriteReferences(document, renames);
        if (document["components"]?["schemas"] is JsonObject all)
            foreach (var (from, to) in renames)
                if (all[from] is { } schema)
                {
                    all.Remove(from);
                    all[to] = schema;
                }
        return document;
    }

    private static void RewriteReferences(JsonNode node, IReadOnlyDictionary<string, string> renames)
    {
        const string prefix = "#/components/schemas/";
        if (node is JsonObject obj)
        {
            foreach (var (key, value) in obj.ToList())
                if (key == "$ref" && value is JsonValue v && v.TryGetValue<string>(out var reference)
                    && reference.StartsWith(prefix, StringComparison.Ordinal)
                    && renames.TryGetValue(reference[prefix.Length..], out var to))
                    obj[key] = prefix + to;
                else if (value is not null)
                    RewriteReferences(value, renames);
        }
        else if (node is JsonArray array)
            foreach (var item in array)
                if (item is not null)
                    RewriteReferences(item, renames);
    }

    /// <summary>Whether the route forwards this document path (its {parameters} stand for one segment) and
    /// method.</summary>
    public static bool Matches(this ForwardedRoute route, string documentPath, string method)
    {
        if (route.Methods is { Count: > 0 } methods && !methods.Contains(method, StringComparer.OrdinalIgnoreCase))
            return false;
        var concrete = Regex.Replace(documentPath, "{[^}]+}", "p");
        return PatternOf(route.Path).IsMatch(concrete);
    }

    private static Regex PatternOf(string routePath)
    {
        var pattern = Regex.Escape(routePath);
        // "/api/runs/{**rest}" also matches "/api/runs"; "{name}" is one segment.
        pattern = Regex.Replace(pattern, @"/\\\{\\\*\\\*[^/]*}", "(/.*)?");
        pattern = Regex.Replace(pattern, @"\\\{[^/]*}", "[^/]+");
        return new Regex($"^{pattern}/?$", RegexOptions.CultureInvariant);
    }
}
