using System.Text.Json.Nodes;
using Gateway.Proxy;
using Ingestion.Apis;
using Training.Apis;

namespace Platform.Services.Tests;

public sealed class RequestLimitTests
{
    [Fact]
    public void The_gateway_lets_through_the_largest_request_each_service_documents()
    {
        var file = Path.Combine(RepoRoot.Path, "services", "Gateway", "appsettings.json");
        var settings = JsonNode.Parse(File.ReadAllText(file))!;
        var configured = settings["Gateway"]!["MaxRequestBodyBytes"]!.GetValue<long>();
        Assert.Equal(ProxyExtensions.DefaultMaxRequestBodyBytes, configured);
        var imports = new Training.Registry.ModelImportOptions();
        // An import is its weights, a tokenizer and the multipart framing around them.
        Assert.True(configured >= imports.MaxWeightsBytes + (16L << 20),
            $"{configured:N0} < an import's {imports.MaxWeightsBytes:N0}");
        Assert.True(configured >= new VectorsOptions().MaxVectorsBytes + (1L << 20));
        Assert.True(configured >= new IngestionOptions().MaxUploadBytes);
    }
}
