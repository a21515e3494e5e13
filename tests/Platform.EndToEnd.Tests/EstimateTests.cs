using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>Runs are estimated before they are accepted: too big is a 422 with the figures, and the figures hold up
/// against a real run.</summary>
[Collection(PlatformCollection.Name)]
public sealed class EstimateTests(PlatformStack stack, Xunit.Abstractions.ITestOutputHelper output)
{
    private HttpClient Http => stack.Gateway;

    // GPT parameters by hand: embeddings (vocabulary padded to 64) and positions, 12·C² + 13·C per layer with biases,
    // final LayerNorm.
    private static long Parameters(int vocab, int block, int layers, int width) =>
        (vocab + 63) / 64 * 64L * width + (long)block * width + layers * (12L * width * width + 13L * width) + 2L
        * width;

    private async Task<(string Id, int Vocab)> TokenizedDatasetAsync(string name)
    {
        var (_, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..20_000]), name,
            tokenizer: "char");
        var id = dataset!["id"]!.GetValue<string>();
        var done = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{id}"), d =>
            d["state"]!.GetValue<string>() == "Tokenized",
            TimeSpan.FromMinutes(2), stack.Logs);
        // Training hears of the tokenization on its own queue: until then its estimates assume a vocabulary (and say
        // so).
        await Api.EventuallyAsync(async () =>
            (await Api.PostJsonAsync(Http, "/api/runs/estimate", $"{{\"datasetId\":\"{id}\"}}")).Body!,
            e => !e["vocabSizeAssumed"]!.GetValue<bool>(), TimeSpan.FromMinutes(1), stack.Logs);
        return (id, done["tokenizer"]!["vocabSize"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_run_too_big_for_the_worker_is_refused_with_its_estimate_and_what_would_fit()
    {
        var (datasetId, vocab) = await TokenizedDatasetAsync("estimate-data");
        const string huge =
            "\"model\":{\"nLayer\":48,\"nHead\":32,\"nEmbd\":4096," +
            "\"blockSize\":1024},\"training\":{\"maxSteps\":1000," +
            "\"batchSize\":8}";
        var (status, problem) = await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"huge\",{huge}}}");
        Assert.True(status == HttpStatusCode.UnprocessableEntity, $"answered {(int)status}: {problem}");
        var estimate = problem!["estimate"]!;
        var n = Parameters(vocab, 1024, 48, 4096);
        Assert.Equal(n, estimate["parameters"]!.GetValue<long>());
        Assert.False(estimate["vocabSizeAssumed"]!.GetValue<bool>());
        Assert.Equal(6.0 * n * 8 * 1024 * 1000, estimate["trainingFlops"]!.GetValue<double>(), 1e-9 * 6.0 * n * 8 * 1024
            * 1000);
        Assert.True(estimate["memory"]!["weightsAndOptimizerBytes"]!.GetValue<long>() >= 16 * n,
            "weights, gradients and two AdamW moments in fp32");
        Assert.Contains("GiB", problem["detail"]!.GetValue<string>());
        Assert.NotEmpty(estimate["advice"]!.AsArray());
        Assert.Empty((await Api.GetOkAsync(Http, "/api/runs?name=huge"))["items"]!.AsArray());

        // The same refusal for an upload's auto-train run, which Training creates: the upload is kept, and the run is
        // recorded Failed with the estimate's words.
        var (uploadStatus, upload) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes("some text\n"),
            "huge-upload", autoTrain: $"{{\"name\":\"huge-auto\",{huge}}}");
        Assert.True(uploadStatus == HttpStatusCode.Accepted, $"upload answered {(int)uploadStatus}: {upload}");
        var autoRun = await Api.EventuallyAsync(
            async () => (await Api.GetAsync(Http, upload!["autoTrainRun"]!.GetValue<string>())).Body
                        ?? new JsonObject(),
            r => r["state"]?.GetValue<string>() == "Failed", TimeSpan.FromSeconds(60), stack.Logs);
        var autoReason = autoRun["failureReason"]!.GetValue<string>();
        Assert.Contains("GiB", autoReason);
        Assert.Contains("The run needs about", autoReason);

        // Asking only: 200 with the figures, nothing created.
        var (askStatus, asked) = await Api.PostJsonAsync(Http, "/api/runs/estimate",
            $"{{\"datasetId\":\"{datasetId}\",\"model\":{{\"nLayer\":2,\"nHead\":2,\"nEmbd\":64," +
            $"\"blockSize\":32}},\"training\":{{\"maxSteps\":100,\"batchSize\":4}}}}");
        Assert.Equal(HttpStatusCode.OK, askStatus);
        Assert.True(asked!["fits"]!.GetValue<bool>());
        Assert.Equal(Parameters(vocab, 32, 2, 64), asked["parameters"]!.GetValue<long>());
        Assert.Equal(4L * 32 * 100, asked["tokens"]!.GetValue<long>());

        // In epochs, the steps are counted from the split as the worker counts them: by hand, N train tokens make
        // ⌈(N − 1) / 32⌉ windows, ⌈windows / 4⌉ steps an epoch; 3 epochs of 4 windows of 32 tokens a step.
        var trainTokens = (await Api.GetOkAsync(Http, $"/api/datasets/{datasetId}"))["trainTokens"]!.GetValue<long>();
        var (_, inEpochs) = await Api.PostJsonAsync(Http, "/api/runs/estimate",
            $"{{\"datasetId\":\"{datasetId}\",\"model\":{{\"nLayer\":2,\"nHead\":2,\"nEmbd\":64," +
            $"\"blockSize\":32}},\"training\":{{\"epochs\":3,\"batchSize\":4}}}}");
        var stepsPerEpoch = (long)Math.Ceiling(Math.Ceiling((trainTokens - 1) / 32.0) / 4.0);
        Assert.Equal(3 * stepsPerEpoch * 4 * 32, inEpochs!["tokens"]!.GetValue<long>());
    }

    [Fact]
    public async Task The_memory_estimate_is_within_30_percent_of_the_measured_peak_and_the_run_records_its_cost()
    {
        var (datasetId, _) = await TokenizedDatasetAsync("memory-data");
        // In one precision, named: under "auto" the worker would first time both (docs/operations.md, "The precision
        // trial"), a peak the estimate of the precision that then trains does not describe.
        const string spec = "\"model\":{\"nLayer\":4,\"nHead\":4,\"nEmbd\":256,\"blockSize\":128,\"dropout\":0.0}," +
                            "\"training\":{\"precision\":\"fp32\",\"maxSteps\":3,\"batchSize\":32,\"warmupSteps\":1," +
                            "\"evalInterval\":3,\"evalIters\":1}";
        // A fresh worker process, so its peak resident memory (VmHWM) is this test's (the probe below is smaller).
        await stack.CrashAndRestartAsync("Training");
        // A half-depth run of the same width first: the worker's measured speed for a model of this size, for the time
        // estimate.
        var (_, probe) = await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"speed-probe\"," +
            $"{spec.Replace("\"nLayer\":4", "\"nLayer\":2")}}}");
        await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{probe!["id"]!.GetValue<string>()}"),
            r => r["state"]!.GetValue<string>() is "Evaluating" or "Completed" or "Failed", TimeSpan.FromMinutes(3),
            stack.Logs);
        var (_, estimate) = await Api.PostJsonAsync(Http, "/api/runs/estimate",
            $"{{\"datasetId\":\"{datasetId}\",{spec}}}");
        var predicted = estimate!["memory"]!["peakBytes"]!.GetValue<long>();

        var (status, run) = await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"memory-check\",{spec}}}");
        Assert.Equal(HttpStatusCode.Accepted, status);
        var runId = run!["id"]!.GetValue<string>();
        run = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{runId}"),
            r => r["state"]!.GetValue<string>() is "Evaluating" or "Completed" or "Failed", TimeSpan.FromMinutes(3),
            stack.Logs);
        Assert.NotEqual("Failed", run["state"]!.GetValue<string>());
        var peak = PeakResidentBytes(stack.ProcessIdOf("Training"));
        var ratio = (double)predicted / peak;
        output.WriteLine($"memory estimate {predicted >> 20} MiB, measured peak (VmHWM) {peak >> 20} MiB, ratio " +
            $"{ratio:F2}");
        Assert.True(ratio is > 0.7 and < 1.3,
            $"estimated {predicted >> 20} MiB, measured peak {peak >> 20} MiB (ratio {ratio:F2})");

        var cost = run["cost"]!;
        Assert.Equal(3L * 32 * 128, cost["tokens"]!.GetValue<long>());
        Assert.Equal(6.0 * estimate["parameters"]!.GetValue<long>() * 3 * 32 * 128, cost["flops"]!.GetValue<double>(),
            1.0);
        Assert.True(cost["wallSeconds"]!.GetValue<double>() > 0 && cost["cpuSeconds"]!.GetValue<double>() > 0,
            cost.ToJsonString());
        Assert.True(cost["price"]!.GetValue<decimal>() > 0);
        Assert.Equal("USD", cost["currency"]!.GetValue<string>());
        // Time: estimated from the FLOP rate the worker reached on the half-depth probe, against this run's own wall
        // time. A few steps on a shared two-core machine vary, so the bound is a factor of two; the figures are
        // printed.
        var estimatedSeconds = estimate["estimatedSeconds"]!.GetValue<double>();
        var took = cost["wallSeconds"]!.GetValue<double>();
        output.WriteLine($"time estimate {estimatedSeconds:F1} s, measured {took:F1} s, ratio " +
            $"{estimatedSeconds / took:F2}");
        Assert.InRange(estimatedSeconds / took, 0.5, 2);
        var completed = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{runId}"),
            r => r["state"]!.GetValue<string>() is "Completed" or "Failed", TimeSpan.FromMinutes(2), stack.Logs);
        var version = await Api.GetOkAsync(Http,
            $"/api/models/memory-check/versions/{completed["modelVersion"]!.GetValue<int>()}");
        Assert.Equal(cost["tokens"]!.GetValue<long>(), version["cost"]!["tokens"]!.GetValue<long>());
    }

    [Fact]
    public async Task Auto_precision_times_a_shape_once_per_machine_then_runs_and_estimates_of_it_take_the_faster()
    {
        var (datasetId, _) = await TokenizedDatasetAsync("precision-data");
        const string spec = "\"model\":{\"nLayer\":1,\"nHead\":2,\"nEmbd\":48,\"blockSize\":24,\"dropout\":0.0}," +
                            "\"training\":{\"maxSteps\":5,\"batchSize\":4,\"warmupSteps\":1,\"evalInterval\":5," +
                            "\"evalIters\":1}";
        async Task<JsonNode> TrainAsync(string name)
        {
            var body = $"{{\"datasetId\":\"{datasetId}\",\"name\":\"{name}\",{spec}}}";
            var (status, created) = await Api.PostJsonAsync(Http, "/api/runs", body);
            Assert.True(status == HttpStatusCode.Accepted, $"answered {(int)status}: {created}");
            var id = created!["id"]!.GetValue<string>();
            return await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{id}"),
                r => r["state"]!.GetValue<string>() is "Evaluating" or "Completed" or "Failed", TimeSpan.FromMinutes(3),
                stack.Logs);
        }
        async Task<JsonNode> EstimateAsync(string body) =>
            (await Api.PostJsonAsync(Http, "/api/runs/estimate", $"{{\"datasetId\":\"{datasetId}\",{body}}}")).Body!;
        static string Text(JsonNode node, string key) => node[key]!.GetValue<string>();
        // "fp32 12.3 ms/step, bf16 4.5 ms/step": the two step times a reason reports.
        static (double Fp32, double Bf16) Timings(string reason)
        {
            var m = System.Text.RegularExpressions.Regex.Match(reason,
                @"fp32 ([0-9.]+) ms/step, bf16 ([0-9.]+) ms/step");
            Assert.True(m.Success, reason);
            var culture = System.Globalization.CultureInfo.InvariantCulture;
            return (double.Parse(m.Groups[1].Value, culture), double.Parse(m.Groups[2].Value, culture));
        }

        var first = await TrainAsync("precision-first");
        Assert.NotEqual("Failed", Text(first, "state"));
        var reason = Text(first, "precisionReason");
        output.WriteLine(reason);
        Assert.Contains("measured now", reason);
        // The worker took the faster of the two it reports (bf16 only when more than 2 % faster).
        var (fp32, bf16) = Timings(reason);
        Assert.Equal(bf16 < fp32 * 0.98 ? "bf16" : "fp32", Text(first, "precision"));

        // The same shape again: the estimate and the next run take the measurement, without timing again.
        var measuredBy = $"measured by run {Text(first, "id")}";
        var estimate = await EstimateAsync(spec);
        Assert.Equal(Text(first, "precision"), Text(estimate, "precision"));
        Assert.Contains(measuredBy, Text(estimate, "precisionReason"));
        var second = await TrainAsync("precision-second");
        Assert.Equal(Text(first, "precision"), Text(second, "precision"));
        Assert.Contains(measuredBy, Text(second, "precisionReason"));
        Assert.Equal((fp32, bf16), Timings(Text(second, "precisionReason")));

        // Another shape has not been timed: its estimate says so, and is fp32's (the larger memory).
        var other = await EstimateAsync(spec.Replace("\"nEmbd\":48", "\"nEmbd\":64"));
        Assert.Equal("fp32", Text(other, "precision"));
        Assert.Contains("not timed on this machine yet", Text(other, "precisionReason"));
    }

    private static long PeakResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
