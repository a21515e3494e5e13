using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>Through the gateway: a version exported as a Hugging Face model folder, and that folder imported
/// back.</summary>
[Collection(PlatformCollection.Name)]
public sealed class HuggingFaceExportTests(PlatformStack stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    private HttpClient Http => stack.Gateway;

    private static string Text(ZipArchive zip, string name)
    {
        using var reader = new StreamReader(zip.GetEntry(name)!.Open());
        return reader.ReadToEnd();
    }

    private static byte[] Bytes(ZipArchive zip, string name)
    {
        using var stream = zip.GetEntry(name)!.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static JsonObject SafetensorsHeader(byte[] file)
    {
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        return JsonNode.Parse(Encoding.UTF8.GetString(file, 8, length))!.AsObject();
    }

    private async Task<JsonArray> PredictionsAsync(string model)
    {
        var (status, body) = await Api.PostJsonAsync(Http, "/api/explain",
            $"{{\"model\":\"{model}\",\"prompt\":\"KING RICHARD:\",\"target\":\" My lord\"}}");
        Assert.True(status == HttpStatusCode.OK, $"{model}: {(int)status} {body}");
        return body!["predictions"]!.AsArray();
    }

    [Fact]
    public async Task A_version_exports_as_a_hugging_face_folder_that_imports_back_with_the_same_log_probabilities()
    {
        var datasetId = await Api.TokenizedDatasetAsync(Http, Api.DemoCorpus[..60_000], "hf-export-data", Deadline,
            stack.Logs, tokenizer: "{\"kind\":\"bpe\",\"vocabSize\":300}");
        // No biases: the folder carries zero biases, which GPT-2's layout needs and which compute the same.
        var run = await Api.TrainToEndAsync(Http, $"{{\"datasetId\":\"{datasetId}\",\"name\":\"hf-export\"," +
            "\"model\":{\"nLayer\":2,\"nHead\":2,\"nEmbd\":32,\"blockSize\":32,\"dropout\":0.0,\"bias\":false}," +
            "\"training\":{\"maxSteps\":60,\"batchSize\":16,\"learningRate\":0.003,\"warmupSteps\":5," +
            "\"evalInterval\":60,\"evalIters\":5,\"seed\":5}}", stack.Logs);
        var path = $"/api/models/hf-export/versions/{run["modelVersion"]}";
        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(Http, HttpMethod.Patch, path,
            "{\"description\":\"Shakespeare, two layers.\",\"tags\":[\"team:nlp\"]}")).Status);
        var version = await Api.GetOkAsync(Http, path);
        Assert.Equal("hf-export-data", version["trainedOn"]!["datasetName"]!.GetValue<string>());
        Assert.True(version["trainedOn"]!["trainTokens"]!.GetValue<long>() > 0);

        var problem = await Api.GetAsync(Http, $"{path}/weights?format=onnx");
        Assert.Equal(HttpStatusCode.BadRequest, problem.Status);
        Assert.NotNull(problem.Body!["errors"]!["format"]);

        using var response = await Http.GetAsync($"{path}/weights?format=hf");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}");
        Assert.Equal("application/zip", response.Content.Headers.ContentType!.MediaType);
        using var zip = new ZipArchive(new MemoryStream(await response.Content.ReadAsByteArrayAsync()));
        Assert.Equal(["README.md", "config.json", "generation_config.json", "model.safetensors",
            "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"],
            zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));

        // GPT-2's config, the vocabulary unpadded (the platform pads the embedding to a multiple of 64).
        var tokenizer = Bytes(zip, "tokenizer.json");
        // The tokenizer's ids: its model's vocabulary and the added (special) tokens outside it.
        var tokenizerJson = JsonNode.Parse(tokenizer)!;
        var vocab = tokenizerJson["model"]!["vocab"]!.AsObject();
        var vocabulary = vocab.Count + tokenizerJson["added_tokens"]!.AsArray()
            .Count(t => !vocab.ContainsKey(t!["content"]!.GetValue<string>()));
        var config = JsonNode.Parse(Text(zip, "config.json"))!.AsObject();
        Assert.Equal("gpt2", config["model_type"]!.GetValue<string>());
        Assert.Equal(vocabulary, config["vocab_size"]!.GetValue<int>());
        Assert.Equal(32, config["n_positions"]!.GetValue<int>());
        var weights = Bytes(zip, "model.safetensors");
        var header = SafetensorsHeader(weights);
        Assert.Equal(new JsonArray(vocabulary, 32).ToJsonString(),
            header["transformer.wte.weight"]!["shape"]!.ToJsonString());
        Assert.Equal("[32,96]", header["transformer.h.0.attn.c_attn.weight"]!["shape"]!.ToJsonString());
        var endOfText = JsonNode.Parse(tokenizer)!["added_tokens"]!.AsArray()
            .Single(t => t!["content"]!.GetValue<string>() == "<|endoftext|>")!["id"]!.GetValue<int>();
        Assert.Equal(endOfText, config["eos_token_id"]!.GetValue<int>());
        Assert.Equal(endOfText, JsonNode.Parse(Text(zip, "generation_config.json"))!["eos_token_id"]!.GetValue<int>());
        Assert.Equal("<|endoftext|>",
            JsonNode.Parse(Text(zip, "special_tokens_map.json"))!["eos_token"]!.GetValue<string>());
        Assert.Equal(32, JsonNode.Parse(Text(zip, "tokenizer_config.json"))!["model_max_length"]!.GetValue<int>());

        // The card: the dataset and its size, the spec, the figures, the cost, use and limits, in both languages.
        var card = Text(zip, "README.md");
        Assert.StartsWith("---\n", card);
        Assert.Contains("- \"team:nlp\"", card);
        Assert.Contains("Shakespeare, two layers.", card);
        Assert.Contains("**hf-export-data**", card);
        Assert.Contains($"{version["trainedOn"]!["trainTokens"]!.GetValue<long>():N0} training tokens", card);
        Assert.Contains("\"nLayer\": 2", card);
        var loss = version["evaluation"]!["loss"]!.GetValue<double>();
        Assert.Contains($"| loss | {loss.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)} |", card);
        Assert.Contains("## Cost", card);
        Assert.Contains("## Limitations and bias", card);
        Assert.Contains("/api/explain", card);
        Assert.Contains("## 用途与局限", card);

        // Imported back from the folder's own files: the same log-probability for every token of the explanation.
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(weights);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(new StringContent("hf-export-back"), "name");
        form.Add(file, "weights", "model.safetensors");
        form.Add(new ByteArrayContent(tokenizer), "tokenizer", "tokenizer.json");
        form.Add(new StringContent(config.ToJsonString()), "config");
        using var imported = await Http.PostAsync("/api/models/import", form);
        var importedBody = await Api.ReadAsync(imported);
        Assert.True(imported.StatusCode == HttpStatusCode.Created, $"{(int)imported.StatusCode}: {importedBody}");
        Assert.Equal("hf-gpt2", importedBody!["importedFrom"]!.GetValue<string>());

        var expected = await PredictionsAsync("hf-export");
        var actual = await PredictionsAsync("hf-export-back");
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i]!["id"]!.GetValue<int>(), actual[i]!["id"]!.GetValue<int>());
            Assert.Equal(expected[i]!["logprob"]!.GetValue<double>(), actual[i]!["logprob"]!.GetValue<double>(), 4);
        }
    }
}
