using System.Text.Json.Nodes;
using Gateway.Docs;

namespace Platform.Services.Tests;

public sealed class ApiDocumentMergerTests
{
    private static JsonObject Document(string paths, string schemas) =>
        JsonNode.Parse("{\"openapi\":\"3.1.1\",\"paths\":" + paths + ",\"components\":{\"schemas\":" + schemas
        + "}}")!.AsObject();

    private static readonly ForwardedRoute[] Routes =
    [
        new("runs-read", "training", "/api/runs/{**rest}", ["GET", "HEAD"], null),
        new("generate", "generation", "/api/generate", ["POST"], null),
        new("metrics-training", "training", "/metrics/training", ["GET"], "/metrics"),
    ];

    [Fact]
    public void Only_what_the_gateway_forwards_is_kept_and_a_clashing_schema_is_renamed_with_its_references()
    {
        var gateway = Document(
            """{"/api/keys":{"get":{"tags":["Keys"],"responses":{"200":{"description":"OK"}}}}}""", "{}");
        var training = Document(
            """
            {"/api/runs":{"get":{"tags":["Runs"],"responses":{"200":{"content":{"application/json":
                            {"schema":{"$ref":"#/components/schemas/Owner"}}}}}},
                          "post":{"tags":["Runs"]}},
             "/api/runs/{id}":{"get":{"tags":["Runs"]}},
             "/internal/lease":{"get":{"tags":["Internal"]}},
             "/metrics":{"get":{}}}
            """,
            """{"Owner":{"type":"object","properties":{"id":{"type":"string"}}}}""");
        var generation = Document(
            """
            {"/api/generate":{"post":{"tags":["Generation"],"responses":{"200":{"content":{"application/json":
                {"schema":{"$ref":"#/components/schemas/Owner"}}}}}}}}
            """,
            """{"Owner":{"type":"object","properties":{"name":{"type":"string"}}}}""");

        var merged = ApiDocumentMerger.Merge(gateway, new Dictionary<string,
            JsonObject>
        { ["generation"] = generation, ["training"] = training }, Routes);

        var paths = merged["paths"]!.AsObject();
        Assert.Equal(["/api/generate", "/api/keys", "/api/runs", "/api/runs/{id}", "/metrics/training"],
            paths.Select(p => p.Key));
        // POST is not forwarded by runs-read
        Assert.Equal(["get"], paths["/api/runs"]!.AsObject().Select(o => o.Key));
        // generation merges first (ordinal order), so training's different Owner is renamed, and its reference with it.
        static string Reference(JsonNode operation) =>
            operation["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>();
        Assert.Equal("#/components/schemas/Owner", Reference(paths["/api/generate"]!["post"]!));
        Assert.Equal("#/components/schemas/TrainingOwner", Reference(paths["/api/runs"]!["get"]!));
        var schemas = merged["components"]!["schemas"]!.AsObject();
        Assert.Equal("name", schemas["Owner"]!["properties"]!.AsObject().Single().Key);
        Assert.Equal("id", schemas["TrainingOwner"]!["properties"]!.AsObject().Single().Key);
        Assert.Equal(["Generation", "Keys", "Metrics", "Runs"],
            merged["tags"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("/api/runs/{**rest}", "/api/runs", "get", true)]
    [InlineData("/api/runs/{**rest}", "/api/runs/{id}/metrics", "get", true)]
    [InlineData("/api/runs/{**rest}", "/api/runsx", "get", false)]
    [InlineData("/api/runs/{**rest}", "/api/runs/{id}", "delete", false)]
    [InlineData("/api/generate", "/api/generate", "post", true)]
    [InlineData("/api/generate", "/api/generate/models", "post", false)]
    [InlineData("/api/models/{name}/aliases", "/api/models/{model}/aliases", "get", true)]
    public void A_route_matches_document_paths_by_segment_and_method(string pattern, string path, string method,
        bool matches) =>
        Assert.Equal(matches, new ForwardedRoute("r", "c", pattern, ["GET", "POST"], null).Matches(path, method));
}
