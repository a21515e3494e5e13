using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using MassTransit;
using Platform.Contracts;

namespace Platform.EndToEnd.Tests;

[Collection(PlatformCollection.Name)]
public sealed class PipelineTests(PlatformStack stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    // A model small enough to learn visibly from a corpus slice in seconds on two cores.
    private const string TinyModel =
        "\"model\":{\"nLayer\":2,\"nHead\":2,\"nEmbd\":32,\"blockSize\":32,\"dropout\":0.0}";
    private const string TinyTraining =
        "\"training\":{\"maxSteps\":150,\"batchSize\":16,\"learningRate\":0.003," +
        "\"warmupSteps\":10,\"evalInterval\":50,\"evalIters\":5,\"seed\":7}";

    private HttpClient Http => stack.Gateway;

    [Fact]
    public async Task A_corpus_goes_from_upload_to_a_model_version_and_generated_text()
    {
        var corpus = Encoding.UTF8.GetBytes(Api.DemoCorpus[..120_000]);
        var autoTrain = $"{{\"name\":\"e2e-char\",{TinyModel},{TinyTraining}}}";

        // 1. Upload through the gateway, asking for a run as soon as the data is tokenized.
        var (status, dataset) = await Api.UploadAsync(Http, corpus, "shakespeare-slice", autoTrain, tokenizer: "char");
        Assert.True(status == HttpStatusCode.Accepted, $"upload answered {(int)status}: {dataset}");
        var datasetId = dataset!["id"]!.GetValue<string>();
        var autoRunId = dataset["autoTrainRunId"]!.GetValue<string>();
        Assert.Equal(corpus.Length, dataset["bytes"]!.GetValue<long>());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(corpus)),
            dataset["sha256"]!.GetValue<string>());
        Assert.Equal(corpus.Length, dataset["trainBytes"]!.GetValue<long>()
            + dataset["validationBytes"]!.GetValue<long>());

        // 2. Tokenized by the Tokenization service (char tokenizer, uint16 token files).
        dataset = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{datasetId}"),
            d => d["state"]!.GetValue<string>() is "Tokenized" or "Failed", Deadline, stack.Logs);
        Assert.Equal("Tokenized", dataset["state"]!.GetValue<string>());
        Assert.InRange(dataset["tokenizer"]!["vocabSize"]!.GetValue<int>(), 30, 80);

        // 3. A second run on the same dataset, through POST /api/runs: bf16 compute, with dropout, counted in epochs.
        //    An epoch of windows of 32 tokens in batches of 64 covers the train split once: by hand, its N tokens
        //    predict N − 1 of them, in ⌈(N − 1) / 32⌉ windows and ⌈windows / 64⌉ steps.
        var bf16Training = TinyTraining.Replace("\"seed\":7", "\"seed\":7,\"precision\":\"bf16\"")
            .Replace("\"batchSize\":16", "\"batchSize\":64,\"epochs\":3");
        var trainTokens = dataset["trainTokens"]!.GetValue<long>();
        var stepsPerEpoch = (int)Math.Ceiling(Math.Ceiling((trainTokens - 1) / 32.0) / 64.0);
        var (runStatus, explicitRun) = await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"e2e-char\"," +
            $"{TinyModel.Replace("\"dropout\":0.0", "\"dropout\":0.1")},{bf16Training}}}");
        Assert.True(runStatus == HttpStatusCode.Accepted, $"run answered {(int)runStatus}: {explicitRun}");
        var explicitRunId = explicitRun!["id"]!.GetValue<string>();

        foreach (var runId in new[] { autoRunId, explicitRunId })
        {
            var run = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{runId}"),
                r => r["state"]!.GetValue<string>() is "Completed" or "Failed" or "Cancelled", Deadline, stack.Logs);
            Assert.True(run["state"]!.GetValue<string>() == "Completed", $"run ended {run}\n{stack.Logs()}");
            var epochs = runId == explicitRunId ? 3 : (int?)null;
            var steps = epochs is { } e ? e * stepsPerEpoch : 150;
            Assert.Equal((steps, steps), (run["step"]!.GetValue<int>(), run["maxSteps"]!.GetValue<int>()));
            Assert.Equal(epochs is null ? null : stepsPerEpoch, run["stepsPerEpoch"]?.GetValue<int>());
            Assert.Equal(epochs, run["epoch"]?.GetValue<int>());
            // The spec's precision as asked ("auto" by default), and what the worker trains in, with why.
            Assert.Equal(runId == explicitRunId ? "bf16" : "auto", run["training"]!["precision"]!.GetValue<string>());
            Assert.Contains(run["precision"]!.GetValue<string>(), (string[])["fp32", "bf16"]);
            var reason = run["precisionReason"]!.GetValue<string>();
            if (runId == explicitRunId)
                Assert.Equal(("bf16", "training.precision asks for bf16"), (Text(run, "precision"), reason));
            else
                Assert.Matches(@"^auto: (fp32|bf16), .*fp32 [0-9.]+ ms/step, bf16 [0-9.]+ ms/step", reason);

            // 4. The model learned: the last logged training loss is clearly below the first.
            var metrics = await Api.GetOkAsync(Http, $"/api/runs/{runId}/metrics");
            var loss = Series(metrics, "loss");
            Assert.True(loss.Count >= 10, $"only {loss.Count} loss points");
            Assert.True(loss[^1] < loss[0] - 1.0, $"loss went from {loss[0]} to {loss[^1]}");
            // Every 50 steps and at the end; a run in epochs also after each epoch's last step, which the "epoch"
            // series marks.
            var evaluated = Enumerable.Range(0, steps + 1)
                .Where(s => s % 50 == 0 || s == steps || (epochs is not null && s % stepsPerEpoch == 0)).Count();
            Assert.Equal(evaluated, Series(metrics, "val_loss").Count);
            Assert.Equal(epochs is null ? new List<double>() : [1.0, 2.0, 3.0], Series(metrics, "epoch"));
            Assert.NotEmpty(Series(metrics, "tokens_per_sec"));
        }

        // 5. Two versions registered under the run name, each with finite evaluation figures.
        var model = await Api.GetOkAsync(Http, "/api/models/e2e-char");
        Assert.Equal(2, model["latestVersion"]!.GetValue<int>());
        var listed = (await Api.GetOkAsync(Http, "/api/models"))["items"]!.AsArray().Single(m =>
            m!["name"]!.GetValue<string>() == "e2e-char")!;
        Assert.Equal(2, listed["latestVersion"]!.GetValue<int>());
        Assert.Equal(2, listed["versions"]!.GetValue<int>());
        foreach (var version in new[] { 1, 2 })
        {
            var v = await Api.GetOkAsync(Http, $"/api/models/e2e-char/versions/{version}");
            var evaluation = v["evaluation"]!;
            foreach (var figure in new[] { "loss", "perplexity", "bitsPerByte", "top1Accuracy", "top5Accuracy",
                "macroPrecision", "macroRecall", "macroF1",
                         "expectedCalibrationError" })
                Assert.True(double.IsFinite(evaluation[figure]!.GetValue<double>()),
                    $"{figure} is not finite: {evaluation}");
            Assert.InRange(evaluation["macroRecall"]!.GetValue<double>(), 0.0, 1.0);
            Assert.InRange(evaluation["expectedCalibrationError"]!.GetValue<double>(), 0.0, 1.0);
            Assert.Null(evaluation["bleu"]);
            Assert.InRange(evaluation["loss"]!.GetValue<double>(), 0.5, 3.5);
            Assert.InRange(evaluation["top5Accuracy"]!.GetValue<double>(),
                evaluation["top1Accuracy"]!.GetValue<double>(), 1.0);
            Assert.False(string.IsNullOrEmpty(v["sample"]?.GetValue<string>()));
        }

        // Weights download as safetensors: an 8-byte header length, then a JSON header naming nanoGPT's tensors.
        using (var weights = await Http.GetAsync("/api/models/e2e-char/versions/1/weights"))
        {
            Assert.Equal(HttpStatusCode.OK, weights.StatusCode);
            var bytes = await weights.Content.ReadAsByteArrayAsync();
            var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
            var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, headerLength))!;
            Assert.NotNull(header["transformer.wte.weight"]);
            Assert.Contains("\"n_layer\":2", header["__metadata__"]!["config"]!.GetValue<string>());
        }

        // 6. Generation learns of versions from ModelVersionRegistered (eventually consistent with the registry):
        //    once it serves v2, it returns the requested number of tokens, the same text for the same seed.
        await Api.EventuallyAsync(() => Api.GetOkAsync(Http, "/v1/models"),
            m => m["data"]!.AsArray().Any(v => v!["id"]!.GetValue<string>() == "e2e-char/versions/2"),
            TimeSpan.FromSeconds(30), stack.Logs);
        var request =
            "{\"model\":\"e2e-char\",\"prompt\":\"ROMEO:\",\"maxTokens\":60,\"temperature\":0.8," +
            "\"topK\":20,\"seed\":5}";
        var (g1Status, g1) = await Api.PostJsonAsync(Http, "/api/generate", request);
        Assert.True(g1Status == HttpStatusCode.OK, $"generate answered {(int)g1Status}: {g1}");
        var (_, g2) = await Api.PostJsonAsync(Http, "/api/generate", request);
        var (_, g3) = await Api.PostJsonAsync(Http, "/api/generate", request.Replace("\"seed\":5", "\"seed\":6"));
        Assert.Equal(60, g1!["completionTokens"]!.GetValue<int>());
        Assert.Equal(6, g1["promptTokens"]!.GetValue<int>());
        Assert.Equal(2, g1["version"]!.GetValue<int>());
        Assert.Equal(g1["text"]!.GetValue<string>(), g2!["text"]!.GetValue<string>());
        Assert.NotEqual(g1["text"]!.GetValue<string>(), g3!["text"]!.GetValue<string>());
        var (_, several) = await Api.PostJsonAsync(Http, "/api/generate",
            request.Replace("}", ",\"n\":2,\"logprobs\":true}"));
        Assert.Equal(g1["text"]!.GetValue<string>(), several!["completions"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(2, several["completions"]!.AsArray().Count);
        Assert.Equal(60, several["completions"]![1]!["tokenLogprobs"]!.AsArray().Count);
        var (pinnedStatus, pinned) = await Api.PostJsonAsync(Http, "/api/generate",
            request.Replace("\"e2e-char\"", "\"e2e-char/versions/1\""));
        Assert.Equal(HttpStatusCode.OK, pinnedStatus);
        Assert.Equal(1, pinned!["version"]!.GetValue<int>());

        await OpenAiCompatibleCompletionsAsync(datasetId);

        // 7. Redelivered messages create no second tokenizer, run, evaluation or model version.
        await RedeliverAsync(datasetId, dataset, autoRunId, autoTrain);
        var tokenizers = await Api.GetOkAsync(Http, $"/api/tokenizers?datasetId={datasetId}");
        Assert.Single(tokenizers["items"]!.AsArray());
        var runs = await Api.GetOkAsync(Http, $"/api/runs?datasetId={datasetId}");
        Assert.Equal(2, runs["items"]!.AsArray().Count);
        Assert.Single((await Api.GetOkAsync(Http, $"/api/evaluations?runId={autoRunId}"))["items"]!.AsArray());
        Assert.Equal(2, (await Api.GetOkAsync(Http, "/api/models/e2e-char"))["versions"]!.AsArray().Count);
    }

    /// <summary>OpenAI's official .NET client, unmodified, pointed at the gateway with a platform key: it lists the
    /// served models, reads one by an id with slashes, embeds texts, and reads a refusal from OpenAI's error
    /// envelope.</summary>
    private async Task OfficialClientReadsModelsEmbeddingsAndErrorsAsync(IReadOnlyList<string> served)
    {
        var key = new System.ClientModel.ApiKeyCredential(stack.AdminKey);
        var options = new OpenAI.OpenAIClientOptions { Endpoint = new Uri(PlatformStack.GatewayAddress, "/v1") };
        var client = new OpenAI.Models.OpenAIModelClient(key, options);
        var listed = (await client.GetModelsAsync()).Value.Select(m => m.Id).ToList();
        Assert.Equal(served, listed);
        var version = (await client.GetModelAsync("e2e-char/versions/1")).Value;
        var raw = (await Api.GetOkAsync(Http, "/v1/models"))["data"]!.AsArray().Single(m =>
            m!["id"]!.GetValue<string>() == "e2e-char/versions/1")!;
        Assert.Equal(("e2e-char/versions/1", raw["owned_by"]!.GetValue<string>()), (version.Id, version.OwnedBy));
        Assert.True(version.CreatedAt > DateTimeOffset.UtcNow.AddHours(-1));
        var missing = await Assert.ThrowsAsync<System.ClientModel.ClientResultException>(() =>
            client.GetModelAsync("no-such-model"));
        Assert.Equal(404, missing.Status);
        var envelope = JsonNode.Parse(missing.GetRawResponse()!.Content.ToString())!["error"]!;
        Assert.Equal(("invalid_request_error", "not_found"), (envelope["type"]!.GetValue<string>(),
            envelope["code"]!.GetValue<string>()));
        Assert.Contains("no-such-model", envelope["message"]!.GetValue<string>());

        // Embeddings (the client asks for base64): one per input, unit length, the model's width; the same text
        // embeds the same alone, in a batch, and as the plain JSON floats the API gives without the client.
        var embeddings = new OpenAI.Embeddings.EmbeddingClient("e2e-char", key, options);
        var pair = (await embeddings.GenerateEmbeddingsAsync(["ROMEO:", "JULIET:"])).Value;
        Assert.Equal((2, 13, 13), (pair.Count, pair.Usage.InputTokenCount, pair.Usage.TotalTokenCount));
        var romeo = pair[0].ToFloats().ToArray();
        Assert.Equal(32, romeo.Length);
        Assert.Equal(1.0, Math.Sqrt(romeo.Sum(v => (double)v * v)), 4);
        var alone = (await embeddings.GenerateEmbeddingAsync("ROMEO:")).Value.ToFloats().ToArray();
        var (_, plain) = await Api.PostJsonAsync(Http, "/v1/embeddings",
            "{\"model\":\"e2e-char\",\"input\":\"ROMEO:\"}");
        var floats = plain!["data"]![0]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
        Assert.All(Enumerable.Range(0, 32), i => Assert.True(Math.Abs(romeo[i] - alone[i]) < 1e-5
            && Math.Abs(romeo[i] - floats[i]) < 1e-5, $"dimension {i}: {romeo[i]}, {alone[i]}, {floats[i]}"));
        var (longStatus, tooLong) = await Api.PostJsonAsync(Http, "/v1/embeddings",
            $"{{\"model\":\"e2e-char\",\"input\":[\"ROMEO:\",\"{new string('a', 33)}\"]}}");
        Assert.Equal((HttpStatusCode.BadRequest, "input"),
            (longStatus, tooLong!["error"]!["param"]!.GetValue<string>()));

        // A version trained on text has no chat template: chat completions are refused, naming the model.
        var chat = new OpenAI.Chat.ChatClient("e2e-char", key, options);
        var refused = await Assert.ThrowsAsync<System.ClientModel.ClientResultException>(() =>
            chat.CompleteChatAsync([new OpenAI.Chat.UserChatMessage("ROMEO:")]));
        var refusal = JsonNode.Parse(refused.GetRawResponse()!.Content.ToString())!["error"]!;
        Assert.Equal((400, "model"), (refused.Status, refusal["param"]!.GetValue<string>()));
        Assert.Contains("no chat template", refusal["message"]!.GetValue<string>());
    }

    private async Task OpenAiCompatibleCompletionsAsync(string datasetId)
    {
        const string request =
            "{\"model\":\"e2e-char\",\"prompt\":\"ROMEO:\",\"max_tokens\":40,\"temperature\":0.8," +
            "\"top_k\":20,\"seed\":3,\"logprobs\":1";
        var (status, completion) = await Api.PostJsonAsync(Http, "/v1/completions", request + "}");
        Assert.True(status == HttpStatusCode.OK, $"{(int)status}: {completion}");
        Assert.StartsWith("cmpl-", completion!["id"]!.GetValue<string>());
        Assert.Equal("text_completion", completion["object"]!.GetValue<string>());
        Assert.True(completion["created"]!.GetValue<long>() > 1_700_000_000);
        Assert.Equal("e2e-char", completion["model"]!.GetValue<string>());
        var choice = completion["choices"]!.AsArray().Single()!;
        var text = choice["text"]!.GetValue<string>();
        Assert.Equal(40, text.Length); // a char model: one character per token
        Assert.Equal(0, choice["index"]!.GetValue<int>());
        Assert.Equal("length", choice["finish_reason"]!.GetValue<string>());
        Assert.Equal(40, choice["logprobs"]!["tokens"]!.AsArray().Count);
        Assert.All(choice["logprobs"]!["token_logprobs"]!.AsArray(), l => Assert.True(l!.GetValue<double>() <= 0));
        // logprobs 1: the likeliest token at each position, which the drawn one cannot beat.
        var tops = choice["logprobs"]!["top_logprobs"]!.AsArray();
        Assert.Equal(40, tops.Count);
        Assert.All(tops.Zip(choice["logprobs"]!["token_logprobs"]!.AsArray()), p => Assert.True(
            p.First!.AsObject().Single().Value!.GetValue<double>() >= p.Second!.GetValue<double>() - 1e-6));
        var usage = completion["usage"]!;
        Assert.Equal(6, usage["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(40, usage["completion_tokens"]!.GetValue<int>());
        Assert.Equal(46, usage["total_tokens"]!.GetValue<int>());

        // Streaming through the gateway: Server-Sent Events whose texts concatenate to the same completion.
        using (var streamed = await Http.PostAsync("/v1/completions",
            new StringContent(request + ",\"stream\":true}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal("text/event-stream", streamed.Content.Headers.ContentType!.MediaType);
            var events = (await streamed.Content.ReadAsStringAsync()).Split("\n\n",
                StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("data: [DONE]", events[^1]);
            var chunks = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!["choices"]![0]!).ToList();
            Assert.True(chunks.Count > 2, $"only {chunks.Count} chunks");
            Assert.Equal(text, string.Concat(chunks.Select(c => c["text"]!.GetValue<string>())));
            Assert.Equal("length", chunks[^1]["finish_reason"]!.GetValue<string>());
        }
        // With include_usage, a last chunk without choices carries the same usage as the whole completion.
        using (var streamed = await Http.PostAsync("/v1/completions", new StringContent(
            request + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}", Encoding.UTF8,
            "application/json")))
        {
            var events = (await streamed.Content.ReadAsStringAsync()).Split("\n\n",
                StringSplitOptions.RemoveEmptyEntries)[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!)
                .ToList();
            Assert.All(events[..^1], e => Assert.Null(e["usage"]));
            Assert.Empty(events[^1]["choices"]!.AsArray());
            Assert.Equal(usage.ToJsonString(), events[^1]["usage"]!.ToJsonString());
        }

        // A stop string spanning three tokens ends the completion just before it.
        var stop = text.Substring(10, 3);
        var (_, stopped) = await Api.PostJsonAsync(Http, "/v1/completions", request
            + $",\"stop\":[{JsonValue.Create(stop).ToJsonString()}]}}");
        var stoppedChoice = stopped!["choices"]![0]!;
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], stoppedChoice["text"]!.GetValue<string>());
        Assert.Equal("stop", stoppedChoice["finish_reason"]!.GetValue<string>());

        // As an OpenAI client sends it: a viewer's key as a Bearer token. The model learned from the admin's upload,
        // private until shared: the viewer is told no such model exists until it is.
        var (_, viewerKey) = await Api.CreateKeyAsync(Http, "openai-client", "viewer");
        async Task<(HttpStatusCode Status, JsonNode? Body)> ViewerCompletesAsync()
        {
            using var openAi = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            { Content = new StringContent(request + "}", Encoding.UTF8, "application/json") };
            openAi.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", viewerKey);
            using var response = await stack.Anonymous.SendAsync(openAi);
            return (response.StatusCode, await Api.ReadAsync(response));
        }
        var (hidden, hiddenBody) = await ViewerCompletesAsync();
        Assert.True(hidden == HttpStatusCode.NotFound, $"{(int)hidden}: {hiddenBody}");
        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(Http, HttpMethod.Put, $"/api/datasets/{datasetId}/sharing",
            "{\"everyone\":true}")).Status);
        var served = await Api.EventuallyAsync(async () => (await ViewerCompletesAsync()).Body!,
            b => b["choices"] is not null, TimeSpan.FromSeconds(30), stack.Logs);
        Assert.Equal(text, served["choices"]![0]!["text"]!.GetValue<string>());

        // An array of prompts: each prompt's choices in turn, each as that prompt alone would have them.
        var (_, juliet) = await Api.PostJsonAsync(Http, "/v1/completions", request.Replace("ROMEO:", "JULIET:") + "}");
        var (_, both) = await Api.PostJsonAsync(Http, "/v1/completions",
            request.Replace("\"ROMEO:\"", "[\"ROMEO:\",\"JULIET:\"]") + "}");
        Assert.Equal(new[] { (0, text), (1, juliet!["choices"]![0]!["text"]!.GetValue<string>()) },
            both!["choices"]!.AsArray().Select(c => (c!["index"]!.GetValue<int>(), c["text"]!.GetValue<string>())));
        Assert.Equal((13, 80), (both["usage"]!["prompt_tokens"]!.GetValue<int>(),
            both["usage"]!["completion_tokens"]!.GetValue<int>()));

        var (_, two) = await Api.PostJsonAsync(Http, "/v1/completions", request + ",\"n\":2}");
        Assert.Equal(new[] { 0, 1 }, two!["choices"]!.AsArray().Select(c => c!["index"]!.GetValue<int>()));
        Assert.Equal(text, two["choices"]![0]!["text"]!.GetValue<string>());

        // Decoded beside other requests in the continuous batch (they join and leave around it), the same seed gives
        // the same text, token log-probabilities included.
        var logprobs = choice["logprobs"]!["token_logprobs"]!.ToJsonString();
        var crowd = await Task.WhenAll(new[] { request + "}",
            "{\"model\":\"e2e-char\",\"prompt\":\"JULIET:\",\"max_tokens\":25,\"seed\":9}", request + "}" }
            .Select(body => Api.PostJsonAsync(Http, "/v1/completions", body)));
        Assert.All(crowd, c => Assert.Equal(HttpStatusCode.OK, c.Item1));
        foreach (var index in new[] { 0, 2 })
        {
            Assert.Equal(text, crowd[index].Item2!["choices"]![0]!["text"]!.GetValue<string>());
            Assert.Equal(logprobs, crowd[index].Item2!["choices"]![0]!["logprobs"]!["token_logprobs"]!.ToJsonString());
        }
        var (badStatus, bad) = await Api.PostJsonAsync(Http, "/v1/completions",
            "{\"model\":\"e2e-char\",\"prompt\":\"a\",\"top_p\":1.5,\"max_tokens\":0}");
        // OpenAI's error envelope, as its clients read it: the first field at fault as param, every one in the message.
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        var error = bad!["error"]!;
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Contains(error["param"]!.GetValue<string>(), new[] { "top_p", "max_tokens" });
        Assert.Contains("top_p:", error["message"]!.GetValue<string>());
        Assert.Contains("max_tokens:", error["message"]!.GetValue<string>());
        var (tokensStatus, tokens) = await Api.PostJsonAsync(Http, "/v1/completions",
            "{\"model\":\"e2e-char\",\"prompt\":[1,2,3]}");
        Assert.Equal((HttpStatusCode.BadRequest, "prompt"),
            (tokensStatus, tokens!["error"]!["param"]!.GetValue<string>()));

        var models = (await Api.GetOkAsync(Http, "/v1/models"))["data"]!.AsArray().Select(m =>
            m!["id"]!.GetValue<string>()).ToList();
        Assert.Contains("e2e-char", models);
        Assert.Contains("e2e-char/versions/1", models);
        await OfficialClientReadsModelsEmbeddingsAndErrorsAsync(models);

        // Two batch slots and one queue place (see PlatformStack): of six long requests at once, some must be turned
        // away.
        var burst = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Http.PostAsync("/api/generate",
            new StringContent("{\"model\":\"e2e-char\",\"prompt\":\"A\",\"maxTokens\":1500,\"seed\":1}", Encoding.UTF8,
            "application/json"))));
        Assert.Contains(burst, r => r.StatusCode == HttpStatusCode.OK);
        var refused = burst.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, r => Assert.Equal("1", r.Headers.RetryAfter!.ToString()));
        foreach (var response in burst)
            response.Dispose();

        // A key allowed one generation at a time is refused a second while the first runs, by the gateway.
        var (_, singleKey) = await Api.CreateKeyAsync(Http, "one-at-a-time", "viewer", maxConcurrentGenerations: 1);
        using var single = PlatformStack.ClientWithKey(singleKey);
        var pair = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => single.PostAsync("/api/generate",
            new StringContent("{\"model\":\"e2e-char\",\"prompt\":\"A\",\"maxTokens\":1000,\"seed\":1}", Encoding.UTF8,
            "application/json"))));
        Assert.Contains(pair, r => r.StatusCode == HttpStatusCode.OK);
        var limited = pair.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.Contains("generations at once", (await Api.ReadAsync(limited[0]))!["detail"]!.GetValue<string>());
        Assert.Equal("1", limited[0].Headers.RetryAfter!.ToString());
        foreach (var response in pair)
            response.Dispose();
    }

    private async Task RedeliverAsync(string datasetId, JsonNode dataset, string autoRunId, string autoTrain)
    {
        var evaluation = (await Api.GetOkAsync(Http, $"/api/evaluations?runId={autoRunId}"))["items"]!.AsArray()[0]!;
        var figures = System.Text.Json.JsonSerializer.Deserialize<EvaluationFigures>(evaluation["figures"])!;
        var id = Guid.Parse(datasetId);
        var prefix = $"datasets/{id:N}";

        var user = stack.RabbitMq.UserInfo.Split(':');
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(stack.RabbitMq.Host, (ushort)stack.RabbitMq.Port,
            stack.RabbitMq.AbsolutePath.TrimStart('/'), h => { h.Username(user[0]); h.Password(user[1]); }));
        await bus.StartAsync();
        try
        {
            await bus.Publish(new DatasetIngested(id, "shakespeare-slice", $"{prefix}/train.txt",
                $"{prefix}/validation.txt",
                dataset["trainBytes"]!.GetValue<long>(), dataset["validationBytes"]!.GetValue<long>(),
                new TokenizerSpec { Kind = TokenizerKinds.Char },
                new AutoTrainRequest(Guid.Parse(autoRunId), autoTrain), DateTimeOffset.UtcNow));
            await bus.Publish(new EvaluationCompleted(Guid.Parse(autoRunId),
                Guid.Parse(evaluation["id"]!.GetValue<string>()), figures, null, DateTimeOffset.UtcNow));
        }
        finally
        {
            await bus.StopAsync();
        }
        // Every consumer has taken the duplicates before counting: nothing is left in, or held from, a queue.
        await Api.EventuallyAsync(() => Task.FromResult<JsonNode>(JsonValue.Create(Broker.Outstanding())),
            n => n.GetValue<int>() == 0, TimeSpan.FromSeconds(60), stack.Logs);
    }

    [Fact]
    public async Task A_live_run_can_be_cancelled_and_keeps_its_progress()
    {
        var (_, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..50_000]), "cancel-me",
            tokenizer: "char");
        var datasetId = dataset!["id"]!.GetValue<string>();
        var longTraining = TinyTraining.Replace("\"maxSteps\":150", "\"maxSteps\":100000");
        var (_, run) = await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"cancelled\",{TinyModel},{longTraining}}}");
        var runId = run!["id"]!.GetValue<string>();

        await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{runId}"),
            r => r["step"]!.GetValue<int>() > 20, Deadline, stack.Logs);
        var (cancelStatus, _) = await Api.PostJsonAsync(Http, $"/api/runs/{runId}/cancel", "{}");
        Assert.Equal(HttpStatusCode.Accepted, cancelStatus);

        var ended = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{runId}"),
            r => r["state"]!.GetValue<string>() != "Training", TimeSpan.FromSeconds(30), stack.Logs);
        Assert.Equal("Cancelled", ended["state"]!.GetValue<string>());
        Assert.InRange(ended["step"]!.GetValue<int>(), 21, 99_999);
        var (againStatus, again) = await Api.PostJsonAsync(Http, $"/api/runs/{runId}/cancel", "{}");
        Assert.Equal(HttpStatusCode.Conflict, againStatus);
        Assert.Contains("Cancelled", again!["detail"]!.GetValue<string>());

        // The cancelled run kept its checkpoint: it resumes from there, and can be cancelled again.
        Assert.NotNull(ended["latestCheckpoint"]);
        var (resumeStatus, _) = await Api.PostJsonAsync(Http, $"/api/runs/{runId}/resume", "{}");
        Assert.Equal(HttpStatusCode.Accepted, resumeStatus);
        var (twiceStatus, _) = await Api.PostJsonAsync(Http, $"/api/runs/{runId}/resume", "{}");
        Assert.Equal(HttpStatusCode.Conflict, twiceStatus);
        await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{runId}"),
            r => r["state"]!.GetValue<string>() == "Training"
            && r["step"]!.GetValue<int>() > ended["latestCheckpoint"]!["step"]!.GetValue<int>(),
            Deadline, stack.Logs);
        await Api.PostJsonAsync(Http, $"/api/runs/{runId}/cancel", "{}");
        await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{runId}"),
            r => r["state"]!.GetValue<string>() == "Cancelled", TimeSpan.FromSeconds(30), stack.Logs);
    }

    [Fact]
    public async Task A_run_whose_training_process_dies_resumes_from_its_checkpoint_and_completes()
    {
        var (_, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..80_000]), "crash-me",
            tokenizer: "char");
        var datasetId = dataset!["id"]!.GetValue<string>();
        var training = TinyTraining.Replace("\"maxSteps\":150", "\"maxSteps\":800").Replace("\"evalInterval\":50",
            "\"evalInterval\":100");
        var (_, run) = await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"crash-resume\",{TinyModel},{training}}}");
        var runId = run!["id"]!.GetValue<string>();

        // Wait for a checkpoint past the first evaluations, with training already beyond it, then kill -9 the trainer.
        var live = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{runId}"),
            r => r["latestCheckpoint"]?["step"]?.GetValue<int>() >= 200
            && r["step"]!.GetValue<int>() > r["latestCheckpoint"]!["step"]!.GetValue<int>(),
            Deadline, stack.Logs);
        var checkpointSeen = live["latestCheckpoint"]!["step"]!.GetValue<int>();
        Assert.Equal(64, live["latestCheckpoint"]!["sha256"]!.GetValue<string>().Length);
        await stack.CrashAndRestartAsync("Training");

        // The dead worker stops renewing its lease; once it expires the restarted worker claims the run and continues
        // it.
        var ended = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{runId}"),
            r => r["state"]!.GetValue<string>() is "Completed" or "Failed" or "Cancelled", Deadline, stack.Logs);
        Assert.True(ended["state"]!.GetValue<string>() == "Completed", $"run ended {ended}\n{stack.Logs()}");
        Assert.Equal(800, ended["step"]!.GetValue<int>());
        var resumedAt = Series(await Api.GetOkAsync(Http, $"/api/runs/{runId}/metrics?keys=resumed_at_step"),
            "resumed_at_step");
        Assert.Single(resumedAt);
        Assert.InRange(resumedAt[0], checkpointSeen, 700);
        Assert.Equal(0, resumedAt[0] % 100);
        Assert.Equal(800, ended["latestCheckpoint"]!["step"]!.GetValue<int>());
        Assert.NotNull(ended["bestCheckpoint"]);
        Assert.Equal(1, ended["modelVersion"]!.GetValue<int>());

        // Best runs first when searching by validation loss.
        var ranked = (await Api.GetOkAsync(Http, "/api/runs?orderBy=val_loss&state=Completed"))["items"]!.AsArray()
            .Select(r => r!["bestValidationLoss"]!.GetValue<double>()).ToList();
        Assert.Equal(ranked.Order(), ranked);
    }

    private static string Text(JsonNode node, string key) => node[key]!.GetValue<string>();

    private static List<double> Series(JsonNode metrics, string key) =>
        metrics["series"]!.AsArray().FirstOrDefault(s => s!["key"]!.GetValue<string>() == key)?["points"]!.AsArray()
            .Select(p => p!["value"]!.GetValue<double>()).ToList() ?? [];
}
