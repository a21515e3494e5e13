using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Tests.Interop;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// A model trained by the platform, downloaded as GGUF through the gateway and run in llama.cpp itself: its greedy
/// continuation is the one the platform's own /v1/completions serves. The same version then served with int8 weights.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class GgufTests(PlatformStack stack)
{
    private const int Tokens = 20;
    private HttpClient Http => stack.Gateway;

    [Fact]
    public async Task A_trained_BPE_model_exported_as_GGUF_continues_a_prompt_in_llama_cpp_as_the_platform_does()
    {
        const string autoTrain = """
            {"name":"e2e-gguf","model":{"nLayer":2,"nHead":4,"nEmbd":64,"blockSize":128,"dropout":0.0},
             "training":{"maxSteps":150,"batchSize":16,"learningRate":0.003,"warmupSteps":10,"evalInterval":150,
                         "evalIters":2,"seed":3}}
            """;
        var (status, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..300_000]),
            "gguf-shakespeare", autoTrain, tokenizer: "{\"kind\":\"bpe\",\"vocabSize\":512}");
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status}: {dataset}");
        var runId = dataset!["autoTrainRunId"]!.GetValue<string>();
        // The auto-train run appears once Training has taken the upload's event.
        var run = await Api.EventuallyAsync(async () => (await Api.GetAsync(Http, $"/api/runs/{runId}")).Body!,
            r => r["state"]?.GetValue<string>() is "Completed" or "Failed", TimeSpan.FromMinutes(5), stack.Logs);
        Assert.True(run["state"]!.GetValue<string>() == "Completed", $"{run}\n{stack.Logs()}");
        var version = run["modelVersion"]!.GetValue<int>();
        var weights = $"/api/models/e2e-gguf/versions/{version}/weights";

        // Settings the export does not have are named.
        var (badType, badTypeBody) = await Api.GetAsync(Http, weights + "?format=gguf&type=q4_k");
        Assert.Equal(HttpStatusCode.BadRequest, badType);
        Assert.NotNull(badTypeBody!["errors"]!["type"]);
        var (badFormat, badFormatBody) = await Api.GetAsync(Http, weights + "?format=onnx");
        Assert.Equal(HttpStatusCode.BadRequest, badFormat);
        Assert.NotNull(badFormatBody!["errors"]!["format"]);

        var path = Path.Combine(Path.GetTempPath(), $"e2e-{Guid.NewGuid():N}.gguf");
        try
        {
            using (var response = await Http.GetAsync(weights + "?format=gguf",
                HttpCompletionOption.ResponseHeadersRead))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal($"e2e-gguf-v{version}-f32.gguf", response.Content.Headers.ContentDisposition?.FileName);
                await using var file = File.Create(path);
                await response.Content.CopyToAsync(file);
            }
            var q8 = await Http.GetByteArrayAsync(weights + "?format=gguf&type=q8_0");
            // Q8_0 keeps 34 bytes per 32 weights of the matrices: under a third of f32's size for the whole file.
            Assert.InRange(q8.Length, 1, new FileInfo(path).Length / 3);

            const string prompt = "ROMEO:\nWhat light through yonder window breaks?\n";
            var tokenizerId = (await Api.GetOkAsync(Http, $"/api/datasets/{dataset["id"]!.GetValue<string>()}"))
                ["tokenizer"]!["id"]!.GetValue<string>();
            var (_, encoded) = await Api.PostJsonAsync(Http, $"/api/tokenizers/{tokenizerId}/encode",
                new JsonObject { ["text"] = prompt }.ToJsonString());
            var promptIds = encoded!["ids"]!.AsArray().Select(i => i!.GetValue<int>()).ToArray();

            int[] theirs;
            using (var llama = new LlamaCpp(path, 128))
            {
                Assert.Equal(promptIds, llama.Tokenize(prompt));
                theirs = llama.Greedy(promptIds, Tokens);
            }
            var (_, decoded) = await Api.PostJsonAsync(Http, $"/api/tokenizers/{tokenizerId}/decode",
                new JsonObject { ["ids"] = new JsonArray([.. theirs.Select(i => (JsonNode)i)]) }.ToJsonString());

            var (completionStatus, completion) = await Api.PostJsonAsync(Http, "/v1/completions", new JsonObject
            {
                ["model"] = $"e2e-gguf/versions/{version}",
                ["prompt"] = prompt,
                ["max_tokens"] = Tokens,
                ["temperature"] = 0,
            }.ToJsonString());
            Assert.True(completionStatus == HttpStatusCode.OK, $"{completion}");
            var choice = completion!["choices"]![0]!;
            Assert.Equal("length", choice["finish_reason"]!.GetValue<string>());
            Assert.Equal(choice["text"]!.GetValue<string>(), decoded!["text"]!.GetValue<string>());

            await ServedInt8Async(version, prompt);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// The version promoted with "quantization":"int8": Generation then decodes it with int8 weights, whose
    /// log-probabilities differ from fp32's (the oracle: the same request before), and "none" brings fp32's back bit
    /// for bit. A quantization the platform does not have is named.
    /// </summary>
    private async Task ServedInt8Async(int version, string prompt)
    {
        var model = $"/api/models/e2e-gguf/versions/{version}";
        async Task<JsonNode> LogProbabilities()
        {
            var (status, body) = await Api.PostJsonAsync(Http, "/v1/completions", new JsonObject
            {
                ["model"] = $"e2e-gguf/versions/{version}",
                ["prompt"] = prompt,
                ["max_tokens"] = 8,
                ["temperature"] = 0,
                ["logprobs"] = 1,
            }.ToJsonString());
            Assert.True(status == HttpStatusCode.OK, $"{body}");
            return body!["choices"]![0]!["logprobs"]!["token_logprobs"]!;
        }
        var fp32 = (await LogProbabilities()).ToJsonString();

        var (bad, badBody) = await Api.SendAsync(Http, HttpMethod.Patch, model, """{"quantization":"int4"}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.NotNull(badBody!["errors"]!["quantization"]);
        var (moved, movedBody) = await Api.SendAsync(Http, HttpMethod.Put, "/api/models/e2e-gguf/aliases/int8",
            $$"""{"version":{{version}},"quantization":"int8"}""");
        Assert.True(moved == HttpStatusCode.OK, $"{movedBody}");
        Assert.Equal("int8", (await Api.GetOkAsync(Http, model))["quantization"]!.GetValue<string>());
        await Api.EventuallyAsync(async () => await LogProbabilities(), l => l.ToJsonString() != fp32,
            TimeSpan.FromSeconds(30), stack.Logs);

        var (patched, patchedBody) = await Api.SendAsync(Http, HttpMethod.Patch, model, """{"quantization":"none"}""");
        Assert.True(patched == HttpStatusCode.OK, $"{patchedBody}");
        Assert.Null(patchedBody!["quantization"]);
        await Api.EventuallyAsync(async () => await LogProbabilities(), l => l.ToJsonString() == fp32,
            TimeSpan.FromSeconds(30), stack.Logs);
    }
}
