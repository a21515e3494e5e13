using System.Net;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>Through the gateway: aliases and their gates, name@alias wherever a model is named, run tags, notes and
/// comparison.</summary>
[Collection(PlatformCollection.Name)]
public sealed class RegistryTests(PlatformStack stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);
    private const string TinyModel =
        "\"model\":{\"nLayer\":1,\"nHead\":2,\"nEmbd\":32,\"blockSize\":32,\"dropout\":0.0}";
    private static string Training(int steps, double learningRate = 0.003) =>
        $"\"training\":{{\"maxSteps\":{steps},\"batchSize\":8,\"learningRate\":{Invariant(learningRate)}," +
        $"\"warmupSteps\":2,\"evalInterval\":{Math.Max(1, steps / 2)},\"evalIters\":2,\"seed\":11}}";

    private static string Invariant(double value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private HttpClient Http => stack.Gateway;

    private Task<string> TokenizedAsync(string name) =>
        Api.TokenizedDatasetAsync(Http, Api.DemoCorpus[..30_000], name, Deadline, stack.Logs);

    private Task<JsonNode> TrainedAsync(string datasetId, string name, int steps, double learningRate = 0.003) =>
        Api.TrainToEndAsync(Http,
        $"{{\"datasetId\":\"{datasetId}\",\"name\":\"{name}\",{TinyModel},{Training(steps, learningRate)}}}",
        stack.Logs);

    private static void AssertProblem(HttpStatusCode expected, (HttpStatusCode Status, JsonNode? Body) answer,
        string what)
    {
        Assert.True(answer.Status == expected,
            $"{what}: expected {(int)expected}, got {(int)answer.Status}: {answer.Body}");
        Assert.Equal((int)expected, answer.Body!["status"]!.GetValue<int>());
    }

    private Task<(HttpStatusCode Status, JsonNode? Body)> MoveAsync(HttpClient http, string model, string alias,
        int version) =>
        Api.SendAsync(http, HttpMethod.Put, $"/api/models/{model}/aliases/{alias}", $"{{\"version\":{version}}}");

    /// <summary>The version Generation serves for a reference, once it answers 200.</summary>
    private Task<JsonNode> GeneratedAsync(string model, Func<JsonNode, bool> done) =>
        Api.EventuallyAsync(async () =>
        {
            var (status, body) = await Api.PostJsonAsync(Http, "/api/generate",
                $"{{\"model\":\"{model}\",\"prompt\":\"ROMEO:\",\"maxTokens\":4,\"seed\":1}}");
            return new JsonObject { ["status"] = (int)status, ["body"] = body?.DeepClone() };
        }, done, Deadline, stack.Logs);

    private static int? ServedVersion(JsonNode answer) =>
        answer["status"]!.GetValue<int>() == 200 ? answer["body"]!["version"]!.GetValue<int>() : null;

    [Fact]
    public async Task Aliases_move_atomically_pass_their_gates_are_audited_and_resolve_wherever_a_model_is_named()
    {
        var datasetId = await TokenizedAsync("registry-data");
        var first = await TrainedAsync(datasetId, "reg-model", 20);
        var second = await TrainedAsync(datasetId, "reg-model", 60);
        Assert.Equal(1, first["modelVersion"]!.GetValue<int>());
        Assert.Equal(2, second["modelVersion"]!.GetValue<int>());
        var secondLoss = second["latestValidationLoss"]!.GetValue<double>();
        Assert.Equal(secondLoss,
            (await Api.GetOkAsync(Http, "/api/models/reg-model/versions/2"))["validationLoss"]!.GetValue<double>());

        // Refused, each naming what is wrong; nothing is set.
        var (badAlias, badAliasBody) = await MoveAsync(Http, "reg-model", "Prod!", 1);
        Assert.Equal(HttpStatusCode.BadRequest, badAlias);
        Assert.Contains("alias", badAliasBody!["errors"]!.AsObject().Select(e => e.Key));
        AssertProblem(HttpStatusCode.BadRequest, await MoveAsync(Http, "reg-model", "latest", 1),
            "latest is not settable");
        var (noVersion, noVersionBody) = await Api.SendAsync(Http, HttpMethod.Put,
            "/api/models/reg-model/aliases/production", "{}");
        Assert.Equal(HttpStatusCode.BadRequest, noVersion);
        Assert.Equal(["version"], noVersionBody!["errors"]!.AsObject().Select(e => e.Key));
        AssertProblem(HttpStatusCode.NotFound, await MoveAsync(Http, "reg-model", "production", 9),
            "a version that does not exist");
        AssertProblem(HttpStatusCode.NotFound, await MoveAsync(Http, "no-such-model", "production", 1),
            "a model that does not exist");
        var (_, viewerKey) = await Api.CreateKeyAsync(Http, "registry-viewer", "viewer");
        var (_, editorKey) = await Api.CreateKeyAsync(Http, "registry-editor", "editor");
        using var viewer = PlatformStack.ClientWithKey(viewerKey);
        using var editor = PlatformStack.ClientWithKey(editorKey);
        AssertProblem(HttpStatusCode.Forbidden, await MoveAsync(viewer, "reg-model", "production", 1),
            "a viewer moves an alias");
        AssertProblem(HttpStatusCode.Forbidden, await MoveAsync(editor, "reg-model", "production", 1),
            "an editor moves another owner's alias");
        Assert.Empty((await Api.GetOkAsync(Http, "/api/models/reg-model/aliases"))["aliases"]!.AsArray());

        // Set: generation, the OpenAI API and the model page follow it.
        var (set, setBody) = await MoveAsync(Http, "reg-model", "production", 1);
        Assert.True(set == HttpStatusCode.OK, $"{(int)set}: {setBody}");
        Assert.Equal(1, setBody!["version"]!.GetValue<int>());
        Assert.Equal(1, ServedVersion(await GeneratedAsync("reg-model@production", a => ServedVersion(a) == 1)));
        Assert.Equal(2, ServedVersion(await GeneratedAsync("reg-model@latest", a => ServedVersion(a) is not null)));
        var listed = (await Api.GetOkAsync(Http, "/v1/models"))["data"]!.AsArray().Select(m =>
            m!["id"]!.GetValue<string>()).ToList();
        Assert.Contains("reg-model@production", listed);
        var (completion, completionBody) = await Api.PostJsonAsync(Http, "/v1/completions",
            "{\"model\":\"reg-model@production\",\"prompt\":\"ROMEO:\",\"max_tokens\":3}");
        Assert.True(completion == HttpStatusCode.OK, $"{(int)completion}: {completionBody}");
        var model = await Api.GetOkAsync(Http, "/api/models/reg-model");
        Assert.Equal(1, model["aliases"]!["production"]!.GetValue<int>());
        Assert.Equal(["production"],
            model["versions"]!.AsArray().First(v =>
            v!["version"]!.GetValue<int>() == 1)!["aliases"]!.AsArray().Select(a => a!.GetValue<string>()));

        // A gate v2 cannot pass: 409 with the failing figure, and the alias stays where it was.
        var (badGate, badGateBody) = await Api.SendAsync(Http, HttpMethod.Put, "/api/models/reg-model/gates/production",
            "{\"requires\":{\"nope\":{\"max\":1}}}");
        Assert.Equal(HttpStatusCode.BadRequest, badGate);
        Assert.Equal(["requires.nope"], badGateBody!["errors"]!.AsObject().Select(e => e.Key));
        AssertProblem(HttpStatusCode.Forbidden,
            await Api.SendAsync(editor, HttpMethod.Put, "/api/models/reg-model/gates/production",
            "{\"requires\":{\"val_loss\":{\"max\":1}}}"), "an editor sets a gate");
        var tight = Math.Round(secondLoss / 2, 4);
        var (gated, gatedBody) = await Api.SendAsync(Http, HttpMethod.Put, "/api/models/reg-model/gates/production",
            $"{{\"requires\":{{\"val_loss\":{{\"max\":{Invariant(tight)}}}}}}}");
        Assert.True(gated == HttpStatusCode.OK, $"{(int)gated}: {gatedBody}");
        var (refused, refusedBody) = await MoveAsync(Http, "reg-model", "production", 2);
        Assert.Equal(HttpStatusCode.Conflict, refused);
        Assert.Contains("val_loss is", refusedBody!["detail"]!.GetValue<string>());
        var check = refusedBody["checks"]!.AsArray().Single()!;
        Assert.Equal(secondLoss, check["value"]!.GetValue<double>(), 6);
        Assert.False(check["passes"]!.GetValue<bool>());
        Assert.Equal(1,
            (await Api.GetOkAsync(Http, "/api/models/reg-model"))["aliases"]!["production"]!.GetValue<int>());

        // A gate it passes: the move goes through and generation follows it on a later request.
        await Api.SendAsync(Http, HttpMethod.Put, "/api/models/reg-model/gates/production",
            $"{{\"requires\":{{\"val_loss\":{{\"max\":{Invariant(secondLoss + 0.01)}}}}}}}");
        var (moved, movedBody) = await MoveAsync(Http, "reg-model", "production", 2);
        Assert.True(moved == HttpStatusCode.OK, $"{(int)moved}: {movedBody}");
        Assert.Equal(2, ServedVersion(await GeneratedAsync("reg-model@production", a => ServedVersion(a) == 2)));

        // Concurrent moves are serialised: every one answers 200 and the history is one unbroken chain ending where the
        // alias is.
        var racing = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            MoveAsync(Http, "reg-model", "staging", 1 + i % 2)));
        Assert.All(racing, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        var book = await Api.GetOkAsync(Http, "/api/models/reg-model/aliases");
        var staging = book["history"]!.AsArray().Where(m =>
            m!["alias"]!.GetValue<string>() == "staging").Reverse().ToList();
        Assert.Null(staging[0]!["fromVersion"]?.GetValue<int>());
        for (var i = 1; i < staging.Count; i++)
            Assert.Equal(staging[i - 1]!["toVersion"]!.GetValue<int>(), staging[i]!["fromVersion"]!.GetValue<int>());
        var stagingNow = book["aliases"]!.AsArray().Single(a =>
            a!["alias"]!.GetValue<string>() == "staging")!["version"]!.GetValue<int>();
        Assert.Equal(staging[^1]!["toVersion"]!.GetValue<int>(), stagingNow);
        // Every move is audited: who and from where to where.
        var production = book["history"]!.AsArray().Where(m =>
            m!["alias"]!.GetValue<string>() == "production").Reverse().ToList();
        Assert.Equal([(int?)null, 1], production.Select(m => m!["fromVersion"]?.GetValue<int>()));
        Assert.Equal([1, 2], production.Select(m => m!["toVersion"]!.GetValue<int>()));
        Assert.All(production, m => Assert.False(string.IsNullOrEmpty(m!["by"]!.GetValue<string>())));

        // name@alias in a fine-tune's initFrom and in an evaluation request: pinned to the version the alias names now.
        // A fresh alias is accepted at once: the Evaluation service waits a moment for the registry's event before it
        // answers 404, so the caller who just moved the alias reads their own write.
        await MoveAsync(Http, "reg-model", "candidate", 1);
        var (evaluated, evaluation) = await Api.PostJsonAsync(Http, "/api/evaluations",
            $"{{\"model\":\"reg-model@candidate\",\"datasetId\":\"{datasetId}\"}}");
        Assert.True(evaluated == HttpStatusCode.Accepted, $"{(int)evaluated}: {evaluation}");
        var (generated, generatedBody) = await Api.PostJsonAsync(Http, "/api/generate",
            "{\"model\":\"reg-model@candidate\",\"prompt\":\"ROMEO:\",\"maxTokens\":2,\"seed\":1}");
        Assert.True(generated == HttpStatusCode.OK, $"{(int)generated}: {generatedBody}");
        Assert.Equal(1, generatedBody!["version"]!.GetValue<int>());
        var (fineTune, fineTuneBody) = await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"reg-fine-tune\"," +
            $"\"initFrom\":{{\"model\":\"reg-model@candidate\"}},{Training(4)}}}");
        Assert.True(fineTune == HttpStatusCode.Accepted, $"{(int)fineTune}: {fineTuneBody}");
        Assert.Equal("reg-model/versions/1", fineTuneBody!["baseModel"]!.GetValue<string>());
        Assert.Equal(1, evaluation!["modelVersion"]!.GetValue<int>());
        AssertProblem(HttpStatusCode.BadRequest,
            await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"x\",\"initFrom\":{{\"model\":\"reg-model@nowhere\"}}}}"),
            "initFrom an alias that does not exist");

        // A version an alias points to cannot be deleted; removing the alias stops its resolution everywhere.
        var (blocked, blockedBody) = await Api.SendAsync(Http, HttpMethod.Delete,
            $"/api/runs/{second["id"]}?cascade=true");
        Assert.Equal(HttpStatusCode.Conflict, blocked);
        Assert.Contains("reg-model@production", blockedBody!["aliases"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NoContent,
            (await Api.SendAsync(Http, HttpMethod.Delete, "/api/models/reg-model/aliases/production")).Status);
        AssertProblem(HttpStatusCode.NotFound,
            await Api.SendAsync(Http, HttpMethod.Delete, "/api/models/reg-model/aliases/production"),
            "an alias removed twice");
        var gone = await GeneratedAsync("reg-model@production", a => a["status"]!.GetValue<int>() == 404);
        Assert.Contains("no alias 'production'", gone["body"]!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_version_registered_from_events_is_deleted_on_its_own_and_then_its_run_deletes_without_cascade()
    {
        var datasetId = await TokenizedAsync("version-delete-data");
        var run = await TrainedAsync(datasetId, "version-delete", 6);
        var runId = run["id"]!.GetValue<string>();
        // The registry assembled the version from TrainingCompleted and EvaluationCompleted: the run's figures and cost
        // are on it.
        var version = await Api.GetOkAsync(Http, "/api/models/version-delete/versions/1");
        Assert.Equal(runId, version["runId"]!.GetValue<string>());
        Assert.Equal(datasetId, version["datasetId"]!.GetValue<string>());
        Assert.Equal(run["cost"]!["tokens"]!.GetValue<long>(), version["cost"]!["tokens"]!.GetValue<long>());
        Assert.True(version["cost"]!["tokens"]!.GetValue<long>() > 0);
        Assert.Equal(run["latestValidationLoss"]!.GetValue<double>(), version["validationLoss"]!.GetValue<double>());
        Assert.NotNull(version["evaluation"]!["loss"]);
        Assert.Equal(1, run["modelVersion"]!.GetValue<int>());
        Assert.Equal(200,
            (await GeneratedAsync("version-delete", a =>
            a["status"]!.GetValue<int>() == 200))["status"]!.GetValue<int>());

        // The run is kept while its version exists; the version is kept while an alias points to it.
        var (runBlocked, runBlockedBody) = await Api.SendAsync(Http, HttpMethod.Delete, $"/api/runs/{runId}");
        AssertProblem(HttpStatusCode.Conflict, (runBlocked, runBlockedBody), "deleting a run with a version");
        Assert.Equal(["version-delete/versions/1"],
            runBlockedBody!["modelVersions"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, (await MoveAsync(Http, "version-delete", "production", 1)).Status);
        var (versionBlocked, versionBlockedBody) = await Api.SendAsync(Http, HttpMethod.Delete,
            "/api/models/version-delete/versions/1");
        AssertProblem(HttpStatusCode.Conflict, (versionBlocked, versionBlockedBody),
            "deleting a version an alias points to");
        Assert.Equal(["version-delete@production"],
            versionBlockedBody!["aliases"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NoContent,
            (await Api.SendAsync(Http, HttpMethod.Delete, "/api/models/version-delete/aliases/production")).Status);

        Assert.Equal(HttpStatusCode.NoContent,
            (await Api.SendAsync(Http, HttpMethod.Delete, "/api/models/version-delete/versions/1")).Status);
        AssertProblem(HttpStatusCode.NotFound, await Api.GetAsync(Http, "/api/models/version-delete/versions/1"),
            "a deleted version");
        AssertProblem(HttpStatusCode.NotFound,
            await Api.SendAsync(Http, HttpMethod.Delete, "/api/models/version-delete/versions/1"),
            "a version deleted twice");
        // By events: Training forgets the run's version, Generation stops serving it.
        await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{runId}"), r => r["modelVersion"] is null,
            Deadline, stack.Logs);
        await GeneratedAsync("version-delete", a => a["status"]!.GetValue<int>() == 404);
        // The run's checkpoints stayed with the run until now.
        Assert.True(Directory.Exists(Path.Combine(stack.ArtifactsRoot, "runs", Guid.Parse(runId).ToString("N"))));
        var (runDeleted, runDeletedBody) = await Api.SendAsync(Http, HttpMethod.Delete, $"/api/runs/{runId}");
        Assert.True(runDeleted == HttpStatusCode.OK, $"{(int)runDeleted}: {runDeletedBody}");
        Assert.False(Directory.Exists(Path.Combine(stack.ArtifactsRoot, "runs", Guid.Parse(runId).ToString("N"))));
    }

    [Fact]
    public async Task Runs_take_tags_and_a_note_filter_by_tag_and_compare_side_by_side_with_metrics_aligned_by_step()
    {
        var datasetId = await TokenizedAsync("compare-data");
        var a = await TrainedAsync(datasetId, "compare-a", 20, 0.003);
        var b = await TrainedAsync(datasetId, "compare-b", 30, 0.001);
        var aId = a["id"]!.GetValue<string>();
        var bId = b["id"]!.GetValue<string>();

        var (patched, patchedBody) = await Api.SendAsync(Http, HttpMethod.Patch, $"/api/runs/{aId}",
            "{\"tags\":[\"baseline\",\"lr:3e-3\"],\"note\":\"first try, 学习率 3e-3\"}");
        Assert.True(patched == HttpStatusCode.OK, $"{(int)patched}: {patchedBody}");
        var read = await Api.GetOkAsync(Http, $"/api/runs/{aId}");
        Assert.Equal(["baseline", "lr:3e-3"], read["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal("first try, 学习率 3e-3", read["note"]!.GetValue<string>());
        var (badTag, badTagBody) = await Api.SendAsync(Http, HttpMethod.Patch, $"/api/runs/{aId}",
            "{\"tags\":[\"ok\",\"not ok\"]}");
        Assert.Equal(HttpStatusCode.BadRequest, badTag);
        Assert.Equal(["tags[1]"], badTagBody!["errors"]!.AsObject().Select(e => e.Key));
        var (_, editorKey) = await Api.CreateKeyAsync(Http, "compare-editor", "editor");
        using var editor = PlatformStack.ClientWithKey(editorKey);
        // A run on a dataset the editor may not read is unknown to it.
        AssertProblem(HttpStatusCode.NotFound, await Api.SendAsync(editor, HttpMethod.Patch, $"/api/runs/{aId}",
            "{\"note\":\"mine now\"}"), "an editor annotates another's run");
        var tagged = (await Api.GetOkAsync(Http, "/api/runs?tag=baseline"))["items"]!.AsArray().Select(r =>
            r!["id"]!.GetValue<string>()).ToList();
        Assert.Contains(aId, tagged);
        Assert.DoesNotContain(bId, tagged);

        // Version description and tags.
        var (described, describedBody) = await Api.SendAsync(Http, HttpMethod.Patch,
            $"/api/models/compare-a/versions/1", "{\"description\":\"tiny\",\"tags\":[\"demo\"]}");
        Assert.True(described == HttpStatusCode.OK, $"{(int)described}: {describedBody}");
        Assert.Equal("tiny",
            (await Api.GetOkAsync(Http, "/api/models/compare-a/versions/1"))["description"]!.GetValue<string>());

        var comparison = await Api.GetOkAsync(Http, $"/api/runs/compare?ids={aId},{bId}");
        Assert.Equal([aId, bId], comparison["runs"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()));
        JsonNode Row(string parameter) =>
            comparison["parameters"]!.AsArray().Single(p => p!["parameter"]!.GetValue<string>() == parameter)!;
        Assert.True(Row("training.learningRate")["differs"]!.GetValue<bool>());
        Assert.Equal([0.003, 0.001],
            Row("training.learningRate")["values"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.True(Row("training.maxSteps")["differs"]!.GetValue<bool>());
        Assert.False(Row("model.nEmbd")["differs"]!.GetValue<bool>());

        // Aligned against each run's own metrics: the union of steps, each run's value at its steps, null elsewhere.
        var loss = comparison["metrics"]!.AsArray().Single(m => m!["key"]!.GetValue<string>() == "loss")!;
        var steps = loss["steps"]!.AsArray().Select(s => s!.GetValue<int>()).ToList();
        var own = new[] { aId, bId }.Select(async id =>
            (await Api.GetOkAsync(Http, $"/api/runs/{id}/metrics?keys=loss&maxPoints=20000"))["series"]!.AsArray()
            .Single()!["points"]!.AsArray().GroupBy(p => p!["step"]!.GetValue<int>()).ToDictionary(g => g.Key, g =>
            g.Last()!["value"]!.GetValue<double>())).ToList();
        var ownA = await own[0];
        var ownB = await own[1];
        Assert.Equal(ownA.Keys.Union(ownB.Keys).Order(), steps);
        for (var i = 0; i < steps.Count; i++)
        {
            Assert.Equal(ownA.TryGetValue(steps[i], out var va) ? va : null,
                loss["values"]![0]![i]?.GetValue<double>());
            Assert.Equal(ownB.TryGetValue(steps[i], out var vb) ? vb : null,
                loss["values"]![1]![i]?.GetValue<double>());
        }
        Assert.Contains(steps, s => !ownA.ContainsKey(s));

        // registration: "best" registers the weights of the evaluation with the lowest validation loss.
        var (badRegistration, badRegistrationBody) = await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"x\",{TinyModel},\"training\":{{\"maxSteps\":5," +
            $"\"registration\":\"worst\"}}}}");
        Assert.Equal(HttpStatusCode.BadRequest, badRegistration);
        Assert.Equal(["training.registration"], badRegistrationBody!["errors"]!.AsObject().Select(e => e.Key));
        var best = await Api.TrainToEndAsync(Http,
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"compare-best\",{TinyModel}," +
            "\"training\":{\"maxSteps\":40,\"batchSize\":8,\"learningRate\":0.003," +
            "\"warmupSteps\":2,\"evalInterval\":10,\"evalIters\":2,\"seed\":11,\"registration\":\"best\"}}",
            stack.Logs);
        var bestVersion = await Api.GetOkAsync(Http, "/api/models/compare-best/versions/1");
        Assert.Equal(best["bestValidationLoss"]!.GetValue<double>(), bestVersion["validationLoss"]!.GetValue<double>());
        Assert.Contains($"run {best["id"]} registers its best weights: step {best["bestCheckpoint"]!["step"]}",
            stack.LogsOf("Training"));

        var (one, oneBody) = await Api.GetAsync(Http, $"/api/runs/compare?ids={aId}");
        Assert.Equal(HttpStatusCode.BadRequest, one);
        Assert.Equal(["ids"], oneBody!["errors"]!.AsObject().Select(e => e.Key));
        AssertProblem(HttpStatusCode.NotFound,
            await Api.GetAsync(Http, $"/api/runs/compare?ids={aId},{Guid.NewGuid()}"), "comparing with an unknown run");
    }
}
