using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>Through the gateway: import a GPT-2-layout file and generate from it; initialise a run from uploaded word
/// vectors.</summary>
[Collection(PlatformCollection.Name)]
public sealed class ImportTests(PlatformStack stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);
    private const string TinyModel =
        "\"model\":{\"nLayer\":2,\"nHead\":2,\"nEmbd\":32,\"blockSize\":32,\"dropout\":0.0}";
    private static string Training(int steps) =>
        $"\"training\":{{\"maxSteps\":{steps},\"batchSize\":16,\"learningRate\":0.003," +
        $"\"warmupSteps\":5,\"evalInterval\":{steps},\"evalIters\":5,\"seed\":5}}";
    private static readonly string[] Conv1D = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight",
        "mlp.c_proj.weight"];

    private HttpClient Http => stack.Gateway;

    private Task<JsonNode> TrainedAsync(string json) => Api.TrainToEndAsync(Http, json, stack.Logs);

    /// <summary>
    /// Rewrites the platform's export (nanoGPT names, Linear (out, in) matrices) in Hugging Face GPT-2's layout: no
    /// "transformer." prefix, Conv1D matrices stored (in, out), and GPT-2's causal-mask buffers, byte by byte.
    /// </summary>
    private static byte[] ToGpt2Layout(byte[] export, string? drop = null)
    {
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(export);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(export, 8, length))!.AsObject();
        var data = export.AsSpan(8 + length);
        var tensors = new List<(string Name, long[] Shape, byte[] Bytes)>();
        foreach (var (name, entry) in header)
        {
            if (name == "__metadata__")
                continue;
            var shape = entry!["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = entry["data_offsets"]!.AsArray().Select(o => o!.GetValue<long>()).ToArray();
            var bytes = data[(int)offsets[0]..(int)offsets[1]].ToArray();
            var gpt2Name = name["transformer.".Length..];
            if (gpt2Name == drop)
                continue;
            if (Conv1D.Any(gpt2Name.EndsWith))
            {
                var (rows, columns) = ((int)shape[0], (int)shape[1]);
                var transposed = new byte[bytes.Length];
                for (var r = 0; r < rows; r++)
                    for (var c = 0; c < columns; c++)
                        bytes.AsSpan((r * columns + c) * 4, 4).CopyTo(transposed.AsSpan((c * rows + r) * 4, 4));
                (bytes, shape) = (transposed, [columns, rows]);
            }
            tensors.Add((gpt2Name, shape, bytes));
        }
        for (var layer = 0; layer < 2; layer++)
            tensors.Add(($"h.{layer}.attn.bias", [1, 1, 32, 32], new byte[32 * 32 * 4]));
        var output = new JsonObject();
        long offset = 0;
        foreach (var (name, shape, bytes) in tensors)
        {
            output[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length)
            };
            offset += bytes.Length;
        }
        var json = Encoding.UTF8.GetBytes(output.ToJsonString());
        using var file = new MemoryStream();
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)json.Length);
        file.Write(prefix);
        file.Write(json);
        foreach (var (_, _, bytes) in tensors)
            file.Write(bytes);
        return file.ToArray();
    }

    /// <summary>GPT-2's names at 16,384 wide and 400 layers, every tensor's byte range empty: about 40 KB.</summary>
    private static byte[] HostileHeader()
    {
        var header = new JsonObject();
        void Add(string name, params long[] shape) => header[name] = new JsonObject
        {
            ["dtype"] = "F32",
            ["shape"] = new JsonArray([.. shape.Select(d => (JsonNode)d)]),
            ["data_offsets"] = new JsonArray(0, 0),
        };
        Add("wte.weight", 50304, 16384);
        Add("wpe.weight", 1024, 16384);
        for (var layer = 0; layer < 400; layer++)
            Add($"h.{layer}.attn.c_attn.weight", 16384, 3 * 16384);
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var file = new byte[8 + json.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        return file;
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> ImportAsync(string name, byte[] weights,
        byte[] tokenizer, string? config)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(name), "name");
        var file = new ByteArrayContent(weights);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "weights", "model.safetensors");
        form.Add(new ByteArrayContent(tokenizer), "tokenizer", "tokenizer.json");
        if (config is not null)
            form.Add(new StringContent(config), "config");
        using var response = await Http.PostAsync("/api/models/import", form);
        return (response.StatusCode, await Api.ReadAsync(response));
    }

    [Fact]
    public async Task A_gpt2_layout_file_imports_generates_like_its_source_and_is_evaluated_and_fine_tuned_as_any()
    {
        var text = Api.DemoCorpus[..80_000];
        var (uploaded, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(text), "import-data",
            tokenizer: "char");
        Assert.Equal(HttpStatusCode.Accepted, uploaded);
        var datasetId = dataset!["id"]!.GetValue<string>();
        await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{datasetId}"), d =>
            d["state"]!.GetValue<string>() == "Tokenized", Deadline, stack.Logs);
        var source = await TrainedAsync(
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"import-source\",{TinyModel},{Training(100)}}}");
        var sourceVersion = await Api.GetOkAsync(Http, $"/api/models/import-source/versions/{source["modelVersion"]}");
        var export = await Http.GetByteArrayAsync(
            $"/api/models/import-source/versions/{source["modelVersion"]}/weights");
        var tokenizer = await File.ReadAllBytesAsync(Path.Combine(stack.ArtifactsRoot,
            sourceVersion["tokenizerKey"]!.GetValue<string>()));

        // A tensor short, and no head count: each problem is named, nothing is registered.
        var (broken, brokenBody) = await ImportAsync("import-gpt2", ToGpt2Layout(export, drop: "h.1.mlp.c_fc.bias"),
            tokenizer, null);
        Assert.True(broken == HttpStatusCode.BadRequest, $"{(int)broken}: {brokenBody}");
        var problems = brokenBody!["errors"]!["weights"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.Contains(problems, p => p.StartsWith("config: n_head is needed", StringComparison.Ordinal));
        Assert.Contains("h.1.mlp.c_fc.bias: missing", problems);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(Http, "/api/models/import-gpt2")).Status);

        // A kilobyte header declaring a 400-layer, 16,384-wide model over empty byte ranges: refused from the header,
        // before anything is allocated (the import below, in the same Training process, shows it is still there).
        var (hostile, hostileBody) = await ImportAsync("import-gpt2", HostileHeader(), tokenizer, """{"n_head":128}""");
        Assert.True(hostile == HttpStatusCode.BadRequest, $"{(int)hostile}: {hostileBody}");
        Assert.Contains("holds 0 bytes", hostileBody!["errors"]!["weights"]![0]!.GetValue<string>());

        // The model was trained with nanoGPT's exact GELU, which the config says (GPT-2's own would be gelu_new).
        var (imported, version) = await ImportAsync("import-gpt2", ToGpt2Layout(export), tokenizer,
            """{"n_head":2,"activation_function":"gelu"}""");
        Assert.True(imported == HttpStatusCode.Created, $"{(int)imported}: {version}");
        Assert.Equal("hf-gpt2", version!["importedFrom"]!.GetValue<string>());

        // Identical weights: greedy decoding gives the same text as the source version.
        async Task<string> GreedyAsync(string model)
        {
            var (status, body) = await Api.PostJsonAsync(Http, "/api/generate",
                $"{{\"model\":\"{model}\",\"prompt\":\"KING:\",\"maxTokens\":30,\"temperature\":0}}");
            Assert.True(status == HttpStatusCode.OK, $"{model}: {(int)status} {body}");
            return body!["text"]!.GetValue<string>();
        }
        var servedImport = await Api.EventuallyAsync(async () =>
            new JsonObject { ["text"] = await TryGreedyAsync("import-gpt2") },
            r => r["text"] is not null, TimeSpan.FromSeconds(30), stack.Logs);
        Assert.Equal(await GreedyAsync("import-source"), servedImport["text"]!.GetValue<string>());

        // Evaluated on a dataset, and fine-tuned (LoRA) like any version.
        var requested = await Api.EventuallyAsync(async () =>
        {
            var (code, body) = await Api.PostJsonAsync(Http, "/api/evaluations",
                $"{{\"model\":\"import-gpt2\",\"datasetId\":\"{datasetId}\"}}");
            return code == HttpStatusCode.Accepted ? body! : new JsonObject { ["pending"] = (int)code };
        }, e => e["id"] is not null, TimeSpan.FromSeconds(30), stack.Logs);
        var scored = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/evaluations/{requested["id"]}"),
            e => e["state"]!.ToString() is "Completed" or "Failed", Deadline, stack.Logs);
        Assert.True(scored["state"]!.ToString() == "Completed", $"{scored}");
        var tuned = await TrainedAsync(
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"import-tuned\",\"initFrom\":{{\"model\":\"import-gpt2\"}}," +
                                       $"\"fineTune\":{{\"method\":\"lora\",\"rank\":2}},{Training(20)}}}");
        Assert.Equal($"import-gpt2/versions/{version["version"]}", tuned["baseModel"]!.GetValue<string>());

        // Three imports of one new name at once take one number each.
        const string Config = """{"n_head":2,"activation_function":"gelu"}""";
        var race = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            ImportAsync("import-race", ToGpt2Layout(export), tokenizer, Config)));
        Assert.All(race, r => Assert.True(r.Status == HttpStatusCode.Created, $"{(int)r.Status}: {r.Body}"));
        Assert.Equal([1, 2, 3], race.Select(r => r.Body!["version"]!.GetValue<int>()).Order());

        async Task<string?> TryGreedyAsync(string model)
        {
            var (status, body) = await Api.PostJsonAsync(Http, "/api/generate",
                $"{{\"model\":\"{model}\",\"prompt\":\"KING:\",\"maxTokens\":30,\"temperature\":0}}");
            return status == HttpStatusCode.OK ? body!["text"]!.GetValue<string>() : null;
        }
    }

    [Fact]
    public async Task A_run_initialised_from_uploaded_word_vectors_reports_its_coverage()
    {
        // Vectors for the 26 lower-case letters (8 wide, the model is 32: projected); upper-case letters match
        // lower-cased.
        var random = new Random(8);
        var lines = "abcdefghijklmnopqrstuvwxyz".Select(c => c + " "
            + string.Join(" ",
            Enumerable.Range(0, 8).Select(_ =>
            (random.NextDouble() - 0.5).ToString("F4", System.Globalization.CultureInfo.InvariantCulture))));
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes("26 8\n" + string.Join("\n", lines) + "\n")), "file",
            "letters.vec");
        using var response = await Http.PostAsync("/api/vectors", form);
        var vectors = await Api.ReadAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {vectors}");
        Assert.Equal(8, vectors!["dimension"]!.GetValue<int>());
        Assert.Equal(26, vectors["words"]!.GetValue<int>());

        using var bad = new MultipartFormDataContent();
        bad.Add(new ByteArrayContent(Encoding.UTF8.GetBytes("a 1 2\nb 1\n")), "file", "bad.vec");
        using var refused = await Http.PostAsync("/api/vectors", bad);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("line 2: 1 values, but the first vector has 2.",
            (await Api.ReadAsync(refused))!["errors"]!["file"]![0]!.GetValue<string>());

        var text = Api.DemoCorpus[..40_000];
        var (uploaded, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(text), "vectors-data",
            tokenizer: "char");
        Assert.Equal(HttpStatusCode.Accepted, uploaded);
        var datasetId = dataset!["id"]!.GetValue<string>();
        await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{datasetId}"), d =>
            d["state"]!.GetValue<string>() == "Tokenized", Deadline, stack.Logs);
        var (unknown, unknownBody) = await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"vectors-run\",\"vectorsId\":\"{Guid.NewGuid()}\"}}");
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.NotNull(unknownBody!["errors"]!["vectorsId"]);

        var run = await TrainedAsync(
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"vectors-run\",\"vectorsId\":\"{vectors["id"]}\"," +
            $"{TinyModel},{Training(20)}}}");
        var metrics = await Api.GetOkAsync(Http, $"/api/runs/{run["id"]}/metrics?keys=vectors_coverage");
        var coverage = metrics["series"]!.AsArray().Single()!["points"]!.AsArray().Single()!["value"]!.GetValue<double>(
            );
        // The char vocabulary is the text's distinct characters; a letter of either case has a vector.
        var alphabet = text.Distinct().ToList();
        Assert.Equal((double)alphabet.Count(char.IsAsciiLetter) / alphabet.Count, coverage, 6);
    }
}
