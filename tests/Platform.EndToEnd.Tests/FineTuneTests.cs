using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>Through the gateway: train a base, fine-tune it fully and with LoRA on a second dataset, serve and explain
/// both.</summary>
[Collection(PlatformCollection.Name)]
public sealed class FineTuneTests(PlatformStack stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);
    private const string TinyModel =
        "\"model\":{\"nLayer\":2,\"nHead\":2,\"nEmbd\":32,\"blockSize\":32,\"dropout\":0.0}";
    private static string Training(int steps) =>
        $"\"training\":{{\"maxSteps\":{steps},\"batchSize\":16,\"learningRate\":0.003," +
        $"\"warmupSteps\":5,\"evalInterval\":{steps},\"evalIters\":5,\"seed\":5}}";

    private HttpClient Http => stack.Gateway;

    private async Task<JsonNode> TokenizedAsync(string text, string name)
    {
        var (status, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(text), name, tokenizer: "char");
        Assert.True(status == HttpStatusCode.Accepted, $"upload answered {(int)status}: {dataset}");
        var id = dataset!["id"]!.GetValue<string>();
        return await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{id}"), d =>
            d["state"]!.GetValue<string>() is "Tokenized" or "Failed",
            Deadline, stack.Logs);
    }

    private Task<JsonNode> TrainedAsync(string json) => Api.TrainToEndAsync(Http, json, stack.Logs);

    private static List<double> Series(JsonNode metrics, string key) =>
        metrics["series"]!.AsArray().FirstOrDefault(s => s!["key"]!.GetValue<string>() == key)?["points"]!.AsArray()
            .Select(p => p!["value"]!.GetValue<double>()).ToList() ?? [];

    private string Sha256OfArtifact(string key) =>
        Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(stack.ArtifactsRoot, key))));

    [Fact]
    public async Task A_base_is_fine_tuned_fully_and_with_lora_on_its_own_tokenizer_served_explained_and_kept_safe()
    {
        // Two corpora with one alphabet: the second is encoded again with the base's char tokenizer.
        var first = Api.DemoCorpus[..120_000];
        var alphabet = first.ToHashSet();
        var second = new string(Api.DemoCorpus[600_000..700_000].Where(alphabet.Contains).ToArray());
        var firstData = await TokenizedAsync(first, "ft-first");
        var secondData = await TokenizedAsync(second, "ft-second");
        var secondId = secondData["id"]!.GetValue<string>();
        Assert.NotEqual(firstData["tokenizer"]!["id"]!.ToJsonString(), secondData["tokenizer"]!["id"]!.ToJsonString());

        var baseRun = await TrainedAsync(
            $"{{\"datasetId\":\"{firstData["id"]}\",\"name\":\"ft-base\",{TinyModel},{Training(200)}}}");
        var baseVersion = await Api.GetOkAsync(Http, $"/api/models/ft-base/versions/{baseRun["modelVersion"]}");
        var baseSha = baseVersion["checkpointSha256"]!.GetValue<string>();
        var baseReference = $"ft-base/versions/{baseRun["modelVersion"]}";

        // Refused before anything is created: a shape change, a base that does not exist, LoRA without a base.
        var (conflict, conflictBody) = await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{secondId}\",\"name\":\"ft-bad\",\"initFrom\":{{\"model\":\"{baseReference}\"}}," +
            $"\"model\":{{\"nEmbd\":64,\"dropout\":0.1}}}}");
        Assert.Equal(HttpStatusCode.BadRequest, conflict);
        Assert.Equal(["model.nEmbd"], conflictBody!["errors"]!.AsObject().Select(e => e.Key));
        var (missing, missingBody) = await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{secondId}\",\"name\":\"ft-bad\",\"initFrom\":{{\"model\":\"no-such-model\"}}}}");
        Assert.Equal(HttpStatusCode.BadRequest, missing);
        Assert.NotNull(missingBody!["errors"]!["initFrom.model"]);
        var (noBase, noBaseBody) = await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{secondId}\",\"name\":\"ft-bad\",\"fineTune\":{{\"method\":\"lora\"}},{TinyModel}}}");
        Assert.Equal(HttpStatusCode.BadRequest, noBase);
        Assert.NotNull(noBaseBody!["errors"]!["fineTune"]);

        // Full fine-tune: the base's shape (dropout changed), its tokenizer, its weights at step 0.
        var full = await TrainedAsync(
            $"{{\"datasetId\":\"{secondId}\",\"name\":\"ft-full\",\"initFrom\":{{\"model\":\"{baseReference}\"}}," +
                                      $"\"model\":{{\"dropout\":0.05}},{Training(60)}}}");
        Assert.Equal(baseReference, full["baseModel"]!.GetValue<string>());
        Assert.Equal(baseVersion["tokenizerKey"]!.GetValue<string>(), full["tokenizerKey"]!.GetValue<string>());
        Assert.Equal(0.05, full["model"]!["dropout"]!.GetValue<double>());
        Assert.Equal(32, full["model"]!["nEmbd"]!.GetValue<int>());
        var fullValidation = Series(await Api.GetOkAsync(Http, $"/api/runs/{full["id"]}/metrics?keys=val_loss"),
            "val_loss");
        // A random start is near ln(vocabulary) ≈ 4; the base's weights already know the language.
        Assert.True(fullValidation[0] < 3.0, $"step-0 validation loss {fullValidation[0]} is not a trained model's");
        Assert.True(fullValidation[^1] < fullValidation[0],
            $"fine-tuning did not lower the second corpus's loss: {string.Join(", ", fullValidation)}");

        // LoRA: adapters only, the base untouched.
        var lora = await TrainedAsync(
            $"{{\"datasetId\":\"{secondId}\",\"name\":\"ft-lora\",\"initFrom\":{{\"model\":\"{baseReference}\"}}," +
                                      $"\"fineTune\":{{\"method\":\"lora\",\"rank\":4,\"alpha\":8," +
                                      $"\"targets\":[\"attn\",\"mlp\"]}},{Training(60)}}}");
        // 2 blocks × rank 4 × ((32+96) + (32+32) + (32+128) + (128+32)).
        Assert.Equal(2 * 4 * (128 + 64 + 160 + 160), lora["parameters"]!.GetValue<long>());
        var loraVersion = await Api.GetOkAsync(Http, $"/api/models/ft-lora/versions/{lora["modelVersion"]}");
        Assert.Equal("lora", loraVersion["fineTuneMethod"]!.GetValue<string>());
        Assert.Equal(baseReference, loraVersion["baseModel"]!.GetValue<string>());
        Assert.Equal(baseSha, Sha256OfArtifact(baseVersion["checkpointKey"]!.GetValue<string>()));
        Assert.True(new FileInfo(Path.Combine(stack.ArtifactsRoot,
            loraVersion["checkpointKey"]!.GetValue<string>())).Length
                    < new FileInfo(Path.Combine(stack.ArtifactsRoot,
                        baseVersion["checkpointKey"]!.GetValue<string>())).Length / 4);
        Assert.NotNull(loraVersion["evaluation"]);

        // Both serve; the LoRA version shares its base in the generation service.
        // Generation hears of a version from its ModelVersionRegistered event, a moment after the registry has it.
        foreach (var name in new[] { "ft-full", "ft-lora", "ft-base" })
        {
            var generated = await Api.EventuallyAsync(async () =>
            {
                var (served, body) = await Api.PostJsonAsync(Http, "/api/generate",
                    $"{{\"model\":\"{name}\",\"prompt\":\"ROMEO:\",\"maxTokens\":20,\"seed\":1}}");
                return new JsonObject { ["status"] = (int)served, ["body"] = body?.DeepClone() };
            }, r => r["status"]!.GetValue<int>() != 404, TimeSpan.FromSeconds(30), stack.Logs);
            Assert.True(generated["status"]!.GetValue<int>() == 200, $"{name}: {generated}");
            Assert.Equal(20, generated["body"]!["completionTokens"]!.GetValue<int>());
        }

        // Explain the LoRA version: attention rows sum to 1 and see no future; every token scored; saliency per prompt
        // token.
        var (explained, explanation) = await Api.PostJsonAsync(Http, "/api/explain",
            "{\"model\":\"ft-lora\",\"prompt\":\"ROMEO:\",\"target\":\" Hi\"}");
        Assert.True(explained == HttpStatusCode.OK, $"explain answered {(int)explained}: {explanation}");
        Assert.Equal(9, explanation!["tokens"]!.AsArray().Count);
        var attention = explanation["attention"]!.AsArray();
        Assert.Equal(2, attention.Count);
        foreach (var head in attention.SelectMany(layer => layer!.AsArray()))
        {
            var rows = head!.AsArray();
            Assert.Equal(9, rows.Count);
            for (var q = 0; q < 9; q++)
            {
                var row = rows[q]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
                Assert.Equal(1.0, row.Sum(), 4);
                Assert.All(row[(q + 1)..], w => Assert.Equal(0.0, w));
            }
        }
        Assert.Equal(8, explanation["predictions"]!.AsArray().Count);
        Assert.All(explanation["predictions"]!.AsArray(), p => Assert.Equal(5, p!["top"]!.AsArray().Count));
        Assert.Equal("target", explanation["saliency"]!["of"]!.GetValue<string>());
        Assert.Equal(6, explanation["saliency"]!["scores"]!.AsArray().Count);
        var (tooLong, _) = await Api.PostJsonAsync(Http, "/api/explain",
            $"{{\"model\":\"ft-lora\",\"prompt\":\"{new string('a', 40)}\"}}");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLong);

        // The LoRA version exports merged, as a plain GPT.
        using (var weights = await Http.GetAsync($"/api/models/ft-lora/versions/{lora["modelVersion"]}/weights"))
            Assert.Equal(HttpStatusCode.OK, weights.StatusCode);

        // The base's run cannot be deleted while an adapter runs on it.
        var (deleted, deletedBody) = await Api.SendAsync(Http, HttpMethod.Delete,
            $"/api/runs/{baseRun["id"]}?cascade=true");
        Assert.True(deleted == HttpStatusCode.Conflict, $"delete answered {(int)deleted}: {deletedBody}");

        // A run may name another dataset's tokenizer: the second dataset is encoded with the first's (the same
        // encoding, cached).
        var named = await TrainedAsync(
            $"{{\"datasetId\":\"{secondId}\",\"name\":\"ft-named\"," +
            $"\"tokenizerId\":\"{firstData["tokenizer"]!["id"]}\"," +
                                       $"{TinyModel},{Training(20)}}}");
        Assert.Equal(baseVersion["tokenizerKey"]!.GetValue<string>(), named["tokenizerKey"]!.GetValue<string>());
        Assert.Equal(1,
            Api.CountOf(stack.LogsOf("Tokenization"), $"Dataset {secondId} encoded with another tokenizer"));
    }
}
