using Npgsql;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// Services killed with kill -9, the broker and the database restarted, each mid-pipeline: the pipeline still
/// completes, with one tokenizer per dataset, one evaluation per run and one version per run, and nothing lost.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ChaosTests(PlatformStack stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);
    private const string TinyModel =
        "\"model\":{\"nLayer\":1,\"nHead\":2,\"nEmbd\":32,\"blockSize\":32,\"dropout\":0.0}";
    private static string Training(int steps) =>
        $"\"training\":{{\"maxSteps\":{steps},\"batchSize\":8,\"learningRate\":0.003," +
        $"\"warmupSteps\":5,\"evalInterval\":100,\"evalIters\":2,\"seed\":5}}";

    private HttpClient Http => stack.Gateway;

    private async Task<JsonNode> RunAsync(string runId)
    {
        var (status, run) = await Api.GetAsync(Http, $"/api/runs/{runId}");
        return status == HttpStatusCode.OK ? run! : new JsonObject { ["state"] = $"HTTP {(int)status}", ["step"] = 0 };
    }

    private Task<JsonNode> UntilAsync(string runId, Func<JsonNode, bool> done) =>
        Api.EventuallyAsync(() => RunAsync(runId), done, Deadline, stack.Logs);

    private static bool Ended(JsonNode r) => r["state"]!.GetValue<string>() is "Completed" or "Failed" or "Cancelled";

    /// <summary>The pipeline's result, checked for completeness and for duplicates.</summary>
    private async Task AssertCompleteOnceAsync(string datasetId, string runId, string model)
    {
        var run = await UntilAsync(runId, Ended);
        Assert.True(run["state"]!.GetValue<string>() == "Completed", $"run ended {run}\n{stack.Logs()}");
        Assert.Single((await Api.GetOkAsync(Http, $"/api/tokenizers?datasetId={datasetId}"))["items"]!.AsArray());
        Assert.Single((await Api.GetOkAsync(Http, $"/api/evaluations?runId={runId}"))["items"]!.AsArray());
        var versions = (await Api.GetOkAsync(Http, $"/api/models/{model}"))["versions"]!.AsArray();
        Assert.Equal(runId, Assert.Single(versions)!["runId"]!.GetValue<string>());
        // Generation hears of the version by its event (queued while it was down): it serves the model once that
        // arrives.
        await Api.EventuallyAsync(async () => JsonValue.Create((int)(await Api.PostJsonAsync(Http, "/api/generate",
                $"{{\"model\":\"{model}\",\"prompt\":\"The \",\"maxTokens\":10,\"seed\":1}}")).Status),
            status => status.GetValue<int>() == 200, TimeSpan.FromSeconds(60), stack.Logs);
    }

    [Fact]
    public async Task Killing_each_service_mid_pipeline_loses_nothing_and_duplicates_nothing()
    {
        var autoTrain = $"{{\"name\":\"chaos-kill\",{TinyModel},{Training(400)}}}";
        var (status, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..40_000]),
            "chaos-kill-data", autoTrain, tokenizer: "char");
        Assert.Equal(HttpStatusCode.Accepted, status);
        var datasetId = dataset!["id"]!.GetValue<string>();
        var runId = dataset["autoTrainRunId"]!.GetValue<string>();

        // Right after the upload: its DatasetIngested is in the outbox or in flight.
        await stack.CrashAndRestartAsync("Ingestion");
        await stack.CrashAndRestartAsync("Tokenization");
        await UntilAsync(runId, r => r["step"]!.GetValue<int>() > 100 || Ended(r));
        await stack.CrashAndRestartAsync("Training");
        // Evaluation and Generation are down and back while the run finishes: their messages wait in their queues.
        await UntilAsync(runId, r => r["step"]!.GetValue<int>() > 250 || Ended(r));
        await stack.CrashAndRestartAsync("Evaluation");
        await stack.CrashAndRestartAsync("Generation");

        await AssertCompleteOnceAsync(datasetId, runId, "chaos-kill");
    }

    [Fact]
    public async Task A_broker_restart_while_a_run_trains_loses_nothing()
    {
        var autoTrain = $"{{\"name\":\"chaos-broker\",{TinyModel},{Training(600)}}}";
        var (_, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..40_000]),
            "chaos-broker-data", autoTrain, tokenizer: "char");
        var datasetId = dataset!["id"]!.GetValue<string>();
        var runId = dataset["autoTrainRunId"]!.GetValue<string>();
        await UntilAsync(runId, r => r["step"]!.GetValue<int>() > 50 || Ended(r));

        Chaos("restart-rabbitmq", "3");

        await AssertCompleteOnceAsync(datasetId, runId, "chaos-broker");
    }

    [Fact]
    public async Task A_database_restart_while_a_run_trains_pauses_it_answers_503_meanwhile_and_never_hangs()
    {
        var autoTrain = $"{{\"name\":\"chaos-database\",{TinyModel},{Training(600)}}}";
        var (_, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..40_000]),
            "chaos-database-data", autoTrain, tokenizer: "char");
        var datasetId = dataset!["id"]!.GetValue<string>();
        var runId = dataset["autoTrainRunId"]!.GetValue<string>();
        await UntilAsync(runId, r => r["step"]!.GetValue<int>() > 50 || Ended(r));

        // Ask about the run all through the outage: every answer is 200 or a 503 problem, and none takes long.
        var answers = new ConcurrentBag<(HttpStatusCode Status, string? ContentType, TimeSpan Took, int Asked)>();
        var asked = 0;
        using var stop = new CancellationTokenSource();
        var asking = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var number = Interlocked.Increment(ref asked);
                var clock = Stopwatch.StartNew();
                using var response = await Http.GetAsync($"/api/runs/{runId}");
                answers.Add((response.StatusCode, response.Content.Headers.ContentType?.MediaType, clock.Elapsed,
                    number));
                await Task.Delay(200);
            }
        });
        Chaos("restart-postgres", "5", "--test");
        // The restart ended this test process's pooled connections too; later tests must not pick one up.
        NpgsqlConnection.ClearAllPools();
        // Asked on until a question asked after the restart is answered.
        var askedBeforeRestart = Volatile.Read(ref asked);
        await Api.EventuallyAsync(() => Task.FromResult<JsonNode>(JsonValue.Create(
                answers.Any(a => a.Status == HttpStatusCode.OK && a.Asked > askedBeforeRestart))),
            answered => answered.GetValue<bool>(), TimeSpan.FromSeconds(60), stack.Logs);
        await stop.CancelAsync();
        await asking;

        var unexpected = answers.Where(a => a.Status != HttpStatusCode.OK
            && a.Status != HttpStatusCode.ServiceUnavailable).ToList();
        Assert.True(unexpected.Count == 0, "answers besides 200 and 503: "
            + string.Join(", ", unexpected.Select(a => (int)a.Status)) + "\n" + stack.Logs());
        Assert.Contains(answers, a => a.Status == HttpStatusCode.ServiceUnavailable);
        Assert.All(answers.Where(a => a.Status == HttpStatusCode.ServiceUnavailable), a =>
            Assert.Equal("application/problem+json", a.ContentType));
        Assert.True(answers.Max(a => a.Took) < TimeSpan.FromSeconds(20), $"slowest answer {answers.Max(a => a.Took)}");

        await AssertCompleteOnceAsync(datasetId, runId, "chaos-database");
    }

    private static void Chaos(params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("bash",
            [Path.Combine(PlatformStack.RepoRoot, "infra", "chaos.sh"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0,
            $"chaos.sh {string.Join(' ', arguments)} exited with {process.ExitCode}: {error}");
    }
}
