using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// The founding document's example in miniature, as infra/demo/founding-example.sh runs it in full: Chinese text from
/// Debian's fortunes-zh (cleaned by the demo's own script), WordPiece, 8 heads, batches of 64, Adam, epochs; then
/// accuracy and recall, and 50 tokens from "我" written as Chinese is, without spaces.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed partial class FoundingExampleTests(PlatformStack stack)
{
    private HttpClient Http => stack.Gateway;

    [GeneratedRegex(@"\p{IsCJKUnifiedIdeographs}\s+\p{IsCJKUnifiedIdeographs}")]
    private static partial Regex SpaceBetweenIdeographs();

    [Fact]
    public async Task Chinese_text_trains_for_epochs_on_WordPiece_and_generates_from_我()
    {
        var (exit, corpus, error) = await Script.RunAsync("infra/demo/fortunes-zh.sh");
        Assert.True(exit == 0, $"fortunes-zh.sh exited {exit}: {error}");
        Assert.DoesNotContain('\u001b', corpus);
        Assert.DoesNotMatch(@"(?m)^%", corpus);
        var slice = corpus[..60_000];
        var spec = "{\"name\":\"founding-zh\"," +
            "\"model\":{\"nLayer\":1,\"nHead\":8,\"nEmbd\":64,\"blockSize\":32,\"dropout\":0.0}," +
            "\"training\":{\"epochs\":2,\"batchSize\":64,\"learningRate\":0.003,\"weightDecay\":0," +
            "\"warmupSteps\":5,\"evalInterval\":1000,\"evalIters\":3,\"seed\":3,\"precision\":\"fp32\"}}";
        var (status, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(slice), "fortunes-zh-slice",
            spec, tokenizer: "{\"kind\":\"wordpiece\",\"vocabSize\":3000}");
        Assert.True(status == HttpStatusCode.Accepted, $"upload answered {(int)status}: {dataset}");
        var datasetId = dataset!["id"]!.GetValue<string>();
        var runId = dataset["autoTrainRunId"]!.GetValue<string>();

        // Training creates the run when it hears of the upload: until then the run is not found.
        var run = await Api.EventuallyAsync(
            async () => (await Api.GetAsync(Http, $"/api/runs/{runId}")).Body ?? new JsonObject(),
            r => r["state"]?.GetValue<string>() is "Completed" or "Failed" or "Cancelled", TimeSpan.FromMinutes(4),
            stack.Logs);
        Assert.True(run["state"]!.GetValue<string>() == "Completed", $"run ended {run}\n{stack.Logs()}");
        dataset = await Api.GetOkAsync(Http, $"/api/datasets/{datasetId}");
        Assert.Equal("wordpiece", dataset["tokenizer"]!["kind"]!.GetValue<string>());
        var vocabulary = dataset["tokenizer"]!["vocabSize"]!.GetValue<int>();
        // Two passes over the split: ⌈(N − 1) / 32⌉ windows of 32 tokens, 64 to a step.
        var trainTokens = dataset["trainTokens"]!.GetValue<long>();
        var stepsPerEpoch = (int)Math.Ceiling(Math.Ceiling((trainTokens - 1) / 32.0) / 64.0);
        Assert.Equal((stepsPerEpoch, 2 * stepsPerEpoch), (run["stepsPerEpoch"]!.GetValue<int>(),
            run["step"]!.GetValue<int>()));

        // Accuracy and recall are reported, and the model beats guessing uniformly over its vocabulary.
        var version = run["modelVersion"]!.GetValue<int>();
        var evaluation = (await Api.GetOkAsync(Http, $"/api/models/founding-zh/versions/{version}"))["evaluation"]!;
        Assert.InRange(evaluation["top1Accuracy"]!.GetValue<double>(), 0.0, 1.0);
        Assert.InRange(evaluation["macroRecall"]!.GetValue<double>(), 0.0, 1.0);
        Assert.True(evaluation["loss"]!.GetValue<double>() < Math.Log(vocabulary),
            $"loss {evaluation["loss"]} is no better than ln {vocabulary}");

        await Api.EventuallyAsync(() => Api.GetOkAsync(Http, "/v1/models"),
            m => m["data"]!.AsArray().Any(v => v!["id"]!.GetValue<string>() == $"founding-zh/versions/{version}"),
            TimeSpan.FromSeconds(30), stack.Logs);
        var (generated, body) = await Api.PostJsonAsync(Http, "/api/generate",
            $"{{\"model\":\"founding-zh/versions/{version}\",\"prompt\":\"我\",\"maxTokens\":50,\"seed\":1}}");
        Assert.True(generated == HttpStatusCode.OK, $"{(int)generated}: {body}");
        Assert.Equal(50, body!["completionTokens"]!.GetValue<int>());
        var text = "我" + body["text"]!.GetValue<string>();
        Assert.Matches(@"(?s)\p{IsCJKUnifiedIdeographs}.*\p{IsCJKUnifiedIdeographs}", text);
        Assert.DoesNotMatch(SpaceBetweenIdeographs(), text);
    }
}
