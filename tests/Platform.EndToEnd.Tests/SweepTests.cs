using System.Net;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// Hyper-parameter sweeps through the gateway: a grid spread over two training workers (the second a separate process,
/// same database and virtual host), ranked, with the best run's version aliased; cancellation of a whole sweep; and
/// refusals that name the field at fault and create nothing.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class SweepTests(PlatformStack stack)
{
    private const int SecondWorkerPort = 18086;
    private const string TinyModel =
        "\"model\":{\"nLayer\":1,\"nHead\":2,\"nEmbd\":32,\"blockSize\":32,\"dropout\":0.0}";
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    private Task<string> TokenizedDatasetAsync(string name, int from) =>
        Api.TokenizedDatasetAsync(stack.Gateway, Api.DemoCorpus[from..(from + 20_000)], name, Deadline, stack.Logs);

    [Fact]
    public async Task A_grid_sweep_trains_on_two_workers_side_by_side_ranks_its_runs_and_aliases_the_best()
    {
        var http = stack.Gateway;
        var dataset = await TokenizedDatasetAsync("sweep-data", 0);
        stack.StartInstance("Training", "Training-2", SecondWorkerPort);
        try
        {
            await Api.EventuallyAsync(async () => JsonValue.Create(await Api.ReadyAsync(SecondWorkerPort)), r =>
                r.GetValue<bool>(), TimeSpan.FromSeconds(90), stack.Logs);
            var (status, created) = await Api.PostJsonAsync(http, "/api/sweeps", $$$"""
                {"datasetId": "{{{dataset}}}", "registerBest": true,
                 "base": {"name": "sweep-grid", {{{TinyModel}}},
                          "training": {"maxSteps": 60, "batchSize": 8, "warmupSteps": 5, "evalInterval": 20,
                                       "evalIters": 2, "seed": 3}},
                 "grid": {"training.learningRate": [0.0003, 0.01], "model.nLayer": [1, 2]}}
                """);
            Assert.True(status == HttpStatusCode.Accepted, $"{(int)status}: {created}");
            var id = created!["id"]!.GetValue<string>();
            Assert.Equal(4, created["runs"]!.AsArray().Count);

            var sweep = await Api.EventuallyAsync(() => Api.GetOkAsync(http, $"/api/sweeps/{id}"), s =>
                s["state"]!.GetValue<string>() != "Running", Deadline, stack.Logs);
            Assert.True(sweep["state"]!.GetValue<string>() == "Completed", $"{sweep}\n{stack.Logs()}");

            // The runs, read as runs: every combination of the grid once, each completed and registered as a version of
            // one model.
            var runs = (await Api.GetOkAsync(http, $"/api/runs?sweepId={id}"))["items"]!.AsArray().Select(r =>
                r!).ToList();
            Assert.Equal(4, runs.Count);
            Assert.All(runs, r => Assert.Equal("Completed", r["state"]!.GetValue<string>()));
            Assert.Equal(["0.0003/1", "0.0003/2", "0.01/1", "0.01/2"],
                runs.Select(r =>
                $"{r["training"]!["learningRate"]!.GetValue<double>()}/{r["model"]!["nLayer"]!.GetValue<int>()}").Order(
                StringComparer.Ordinal));
            Assert.Equal(4, (await Api.GetOkAsync(http, "/api/models/sweep-grid"))["versions"]!.AsArray().Count);

            // Each run trained once, by one of the two workers, and both workers trained some: the sweep was spread.
            foreach (var run in runs)
                Assert.Equal(1, Api.CountOf(stack.LogsOf("Training"), $"run {run["id"]} claimed by"));
            var bySecond = runs.Count(r => stack.LogsOf("Training-2").Contains($"run {r["id"]} claimed by Training-2"));
            Assert.True(bySecond is > 0 and < 4, $"Training-2 trained {bySecond} of the 4 runs\n{stack.Logs()}");
            // Side by side, not one after another: some two runs' training spans (start to the end of training)
            // overlap, which one worker cannot do.
            var spans = runs.Select(r =>
                (Start: r["startedAt"]!.GetValue<DateTimeOffset>(),
                End: r["trainedAt"]!.GetValue<DateTimeOffset>())).ToList();
            var overlapping = spans.SelectMany((a, i) =>
                spans.Skip(i + 1).Where(b => a.Start < b.End && b.Start < a.End)).Count();
            Assert.True(overlapping > 0, $"no two runs overlapped: {string.Join(", ", spans)}");
            Assert.InRange(sweep["peakRunsAtOnce"]!.GetValue<int>(), 2, 4);

            // Across machines through the bucket: Training-2 keeps its own artifacts folder, so it trained on token
            // files it fetched from the bucket, and the checkpoints it wrote reached the bucket, from which Evaluation
            // fetched them.
            var secondFolder = stack.ArtifactsRoot + "-Training-2";
            foreach (var run in runs.Where(r =>
                stack.LogsOf("Training-2").Contains($"run {r["id"]} claimed by Training-2")))
            {
                var key = run["checkpoint"]!["key"]!.GetValue<string>();
                var written = await File.ReadAllBytesAsync(Path.Combine(secondFolder, key));
                Assert.Equal(written, await stack.Bucket.RawObjectAsync(key));
                Assert.Equal(written, await File.ReadAllBytesAsync(Path.Combine(stack.ArtifactsRoot, key)));
            }
            var tokenizer = Guid.Parse((await Api.GetOkAsync(http,
                $"/api/tokenizers?datasetId={dataset}"))["items"]![0]!["id"]!.GetValue<string>());
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(secondFolder, "tokenizers", tokenizer.ToString("N")),
                "train.*"));

            // The best is the run with the lowest validation loss, and the alias "best" points to its version.
            var best = runs.MinBy(r => r["bestValidationLoss"]!.GetValue<double>())!;
            Assert.Equal(best["id"]!.GetValue<string>(), sweep["best"]!["runId"]!.GetValue<string>());
            Assert.Equal(best["bestValidationLoss"]!.GetValue<double>(), sweep["best"]!["value"]!.GetValue<double>());
            Assert.Equal(best["model"]!["nLayer"]!.GetValue<int>(),
                sweep["best"]!["parameters"]!["model.nLayer"]!.GetValue<int>());
            var aliases = await Api.EventuallyAsync(() => Api.GetOkAsync(http, "/api/models/sweep-grid/aliases"),
                a => a["aliases"]!.AsArray().Any(x => x!["alias"]!.GetValue<string>() == "best"),
                TimeSpan.FromSeconds(30), stack.Logs);
            Assert.Equal(best["modelVersion"]!.GetValue<int>(),
                aliases["aliases"]!.AsArray().Single(x =>
                x!["alias"]!.GetValue<string>() == "best")!["version"]!.GetValue<int>());
            Assert.Equal($"sweep {id}", aliases["history"]!.AsArray().First()!["by"]!.GetValue<string>());
            Assert.Equal(4, sweep["runsByState"]!["Completed"]!.GetValue<int>());
            Assert.Contains(id,
                (await Api.GetOkAsync(http, "/api/sweeps?state=Completed"))["items"]!.AsArray().Select(s =>
                s!["id"]!.GetValue<string>()));
        }
        finally
        {
            await stack.StopAsync("Training-2");
        }
    }

    [Fact]
    public async Task Cancelling_a_sweep_cancels_every_run_and_the_sweep_ends_cancelled_without_an_alias()
    {
        var http = stack.Gateway;
        var dataset = await TokenizedDatasetAsync("sweep-cancel-data", 20_000);
        var (status, created) = await Api.PostJsonAsync(http, "/api/sweeps", $$$"""
            {"datasetId": "{{{dataset}}}", "name": "sweep-cancel", "maxRuns": 3, "seed": 11,
             "registerBest": {"alias": "champion"},
             "base": {{{{TinyModel}}},
                      "training": {"maxSteps": {{{Platform.Contracts.RunSpecValidator.MaxSteps}}}, "batchSize": 8,
                                   "evalInterval": 1000, "evalIters": 2}},
             "random": {"training.learningRate": {"min": 0.0001, "max": 0.01, "scale": "log"}} }
            """);
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status}: {created}");
        var id = created!["id"]!.GetValue<string>();
        Assert.Equal(11, created["seed"]!.GetValue<int>());
        var rates = created["runs"]!.AsArray().Select(r =>
            r!["parameters"]!["training.learningRate"]!.GetValue<double>()).ToList();
        Assert.Equal(3, rates.Distinct().Count());
        Assert.All(rates, r => Assert.InRange(r, 0.0001, 0.01));
        await Api.EventuallyAsync(() => Api.GetOkAsync(http, $"/api/sweeps/{id}"),
            s => s["runs"]!.AsArray().Any(r => r!["state"]!.GetValue<string>() == "Training"), Deadline, stack.Logs);

        var (cancelled, _) = await Api.PostJsonAsync(http, $"/api/sweeps/{id}/cancel", "{}");
        Assert.Equal(HttpStatusCode.Accepted, cancelled);
        var sweep = await Api.EventuallyAsync(() => Api.GetOkAsync(http, $"/api/sweeps/{id}"), s =>
            s["state"]!.GetValue<string>() != "Running", Deadline, stack.Logs);
        Assert.Equal("Cancelled", sweep["state"]!.GetValue<string>());
        Assert.All(sweep["runs"]!.AsArray(), r => Assert.Equal("Cancelled", r!["state"]!.GetValue<string>()));
        Assert.Null(sweep["best"]);
        var (again, problem) = await Api.PostJsonAsync(http, $"/api/sweeps/{id}/cancel", "{}");
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Contains("Cancelled", problem!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(http, "/api/models/sweep-cancel/aliases")).Status);
    }

    [Fact]
    public async Task A_bad_sweep_is_refused_naming_the_field_at_fault_and_creates_nothing()
    {
        var http = stack.Gateway;
        var dataset = await TokenizedDatasetAsync("sweep-bad-data", 40_000);
        var before = (await Api.GetOkAsync(http, $"/api/runs?datasetId={dataset}"))["items"]!.AsArray().Count;
        string Sweep(string rest) => $$$"""
            {"datasetId": "{{{dataset}}}", "base": {"name": "sweep-bad", {{{TinyModel}}}, "training": {"maxSteps": 20}},
             {{{rest}}}}
            """;

        // nHead 3 does not divide nEmbd 32: the third run of the grid is refused, under the grid's name for the field.
        var (status, body) = await Api.PostJsonAsync(http, "/api/sweeps", Sweep("""
            "grid": {"model.nHead": [1, 2, 3]}
            """));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(body!["errors"]!["grid.model.nHead"]);
        Assert.Contains("model.nHead=3", body["detail"]!.GetValue<string>());

        (status, body) = await Api.PostJsonAsync(http, "/api/sweeps", Sweep("""
            "maxRuns": 3, "grid": {"training.learningRate": [0.001, 0.002], "model.nLayer": [1, 2]}
            """));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("makes 4 runs", body!["errors"]!["maxRuns"]![0]!.GetValue<string>());

        (status, body) = await Api.PostJsonAsync(http, "/api/sweeps", Sweep("""
            "grid": {"training.learningRate": "fast"}, "objective": "accuracy", "registerBest": {"alias": "Latest!"}
            """));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["objective", "registerBest.alias"],
            body!["errors"]!.AsObject().Select(e => e.Key).Order(StringComparer.Ordinal));

        (status, body) = await Api.PostJsonAsync(http, "/api/sweeps", Sweep("""
            "grid": {"training.learningRate": "fast"}
            """));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(body!["errors"]!["grid.training.learningRate"]);

        (status, body) = await Api.PostJsonAsync(http, "/api/sweeps", Sweep("""
            "random": {"model.nLayer": [1, 2]}
            """));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(body!["errors"]!["maxRuns"]);

        (status, body) = await Api.PostJsonAsync(http, "/api/sweeps", Sweep("""
            "grid": {"model.nLayer": [1]}
            """).Replace(dataset, Guid.NewGuid().ToString()));
        Assert.Equal(HttpStatusCode.NotFound, status);

        (status, _) = await Api.PostJsonAsync(http, "/api/sweeps", """{"datasetId": 7}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(http, $"/api/sweeps/{Guid.NewGuid()}")).Status);
        Assert.Equal(before, (await Api.GetOkAsync(http, $"/api/runs?datasetId={dataset}"))["items"]!.AsArray().Count);
    }
}
