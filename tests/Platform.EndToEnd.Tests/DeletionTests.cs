using System.Net;
using MassTransit;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>Deleting a dataset (with cascade) or a run leaves nothing of it anywhere: the artifact folder is searched
/// for its text.</summary>
[Collection(PlatformCollection.Name)]
public sealed class DeletionTests(PlatformStack stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);
    private HttpClient Admin => stack.Gateway;

    private const string Tiny = "\"model\":{\"nLayer\":1,\"nHead\":2,\"nEmbd\":16,\"blockSize\":16,\"dropout\":0.0}";

    [Fact]
    public async Task A_dataset_deleted_with_cascade_takes_its_tokenizer_runs_versions_evaluations_leaving_no_trace()
    {
        // Letters only, so GPT-2's pre-tokenizer keeps it whole and BPE learns it as one token: it then sits in the
        // tokenizer's vocabulary as well as in the corpus and its splits.
        var marker = "Zqxjv"
            + string.Concat(Guid.NewGuid().ToString("N").Where(char.IsAsciiLetter).Take(8).Select(c =>
            (char)(c - 'a' + 'k')));
        var corpus = string.Concat(Enumerable.Range(0, 1500).Select(i =>
            $"{marker} {Api.DemoCorpus.Substring(i * 13 % 50_000, 24)}\n"));
        var (_, ownerKey) = await Api.CreateKeyAsync(Admin, "data-owner", "editor");
        var (_, otherKey) = await Api.CreateKeyAsync(Admin, "other-editor", "editor");
        using var owner = PlatformStack.ClientWithKey(ownerKey);
        using var other = PlatformStack.ClientWithKey(otherKey);
        var name = "doomed-" + marker[5..];
        var autoTrain =
            $"{{\"name\":\"{name}\",{Tiny},\"training\":{{\"maxSteps\":30,\"batchSize\":8,\"evalInterval\":15," +
            $"\"evalIters\":2}}}}";
        var (status, dataset) = await Api.UploadAsync(owner, Encoding.UTF8.GetBytes(corpus), name, autoTrain,
            tokenizer: "{\"kind\":\"bpe\",\"vocabSize\":320}");
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status}: {dataset}");
        var id = dataset!["id"]!.GetValue<string>();
        var runId = dataset["autoTrainRunId"]!.GetValue<string>();

        // The auto-train run appears once Training has taken the upload's event.
        var run = await Api.EventuallyAsync(async () => (await Api.GetAsync(Admin, $"/api/runs/{runId}")).Body!,
            r => r["state"]?.GetValue<string>() is "Completed" or "Failed", Deadline, stack.Logs);
        Assert.True(run["state"]!.GetValue<string>() == "Completed", $"{run}\n{stack.Logs()}");
        Assert.Equal("data-owner",
            (await Api.GetOkAsync(Admin, $"/api/models/{name}/versions/1"))["owner"]!["name"]!.GetValue<string>());
        await Api.EventuallyAsync(() => Api.GetOkAsync(Admin, "/v1/models"), m =>
            m["data"]!.AsArray().Any(v => v!["id"]!.GetValue<string>() == name),
            TimeSpan.FromSeconds(30), stack.Logs);
        var tokenizer = (await Api.GetOkAsync(Admin, $"/api/tokenizers?datasetId={id}"))["items"]!.AsArray().Single()!;
        Assert.Equal("data-owner", tokenizer["owner"]!["name"]!.GetValue<string>());
        Assert.Single((await Api.GetOkAsync(Admin, $"/api/evaluations?runId={runId}"))["items"]!.AsArray());
        // Before: the marker is in the corpus, both splits and the tokenizer's vocabulary.
        var before = Api.FilesContaining(stack.ArtifactsRoot, marker);
        Assert.Contains(before, f => f.EndsWith("corpus.txt"));
        Assert.Contains(before, f => f.StartsWith("tokenizers") && f.EndsWith("tokenizer.json"));
        Assert.True(Directory.Exists(Path.Combine(stack.ArtifactsRoot, "runs", Guid.Parse(runId).ToString("N"))));

        // Only the owner or an admin; with runs on it, only with cascade.
        // A dataset another key may not read is unknown to it; one it may read, it still may not delete.
        Assert.Equal(HttpStatusCode.NotFound, (await Api.SendAsync(other, HttpMethod.Delete,
            $"/api/datasets/{id}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(owner, HttpMethod.Put, $"/api/datasets/{id}/sharing",
            "{\"everyone\":true}")).Status);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await Api.SendAsync(other, HttpMethod.Delete, $"/api/datasets/{id}")).Status);

        // Shared, the data teaches another key too: its run, its version and the alias it moved onto it.
        var otherName = name + "-theirs";
        await Api.EventuallyAnswersAsync(other, $"/api/runs/{runId}", HttpStatusCode.OK, stack.Logs);
        var otherRunId = await Api.StartRunAsync(other, id, otherName,
            $"{Tiny},\"training\":{{\"maxSteps\":10,\"batchSize\":8,\"evalInterval\":10,\"evalIters\":1}}", stack.Logs);
        var otherRun = await Api.EventuallyAsync(async () => (await Api.GetAsync(Admin,
            $"/api/runs/{otherRunId}")).Body!,
            r => r["state"]?.GetValue<string>() is "Completed" or "Failed", Deadline, stack.Logs);
        Assert.True(otherRun["state"]!.GetValue<string>() == "Completed", $"{otherRun}\n{stack.Logs()}");
        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(other, HttpMethod.Put,
            $"/api/models/{otherName}/aliases/production",
            "{\"version\":1}")).Status);

        // Without cascade: a 409 listing everything of every owner that a cascade would take.
        var (conflict, listing) = await Api.SendAsync(owner, HttpMethod.Delete, $"/api/datasets/{id}");
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.Equal([runId, otherRunId], listing!["runs"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()));
        Assert.Equal(["data-owner", "other-editor"], listing["runs"]!.AsArray().Select(r
            => r!["owner"]!["name"]!.GetValue<string>()));
        var listed = listing["modelVersions"]!.AsArray().ToDictionary(v => v!["name"]!.GetValue<string>(), v => v!);
        Assert.Equal([name, otherName], listed.Keys.Order());
        Assert.Equal("other-editor", listed[otherName]["owner"]!["name"]!.GetValue<string>());
        Assert.Equal(["production"], listed[otherName]["aliases"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Contains("other-editor", listing["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(Admin, $"/api/datasets/{id}")).Status);

        var (deleted, deletion) = await Api.SendAsync(owner, HttpMethod.Delete, $"/api/datasets/{id}?cascade=true");
        Assert.True(deleted == HttpStatusCode.Accepted, $"{(int)deleted}: {deletion}");
        Assert.Equal(2, deletion!["modelVersions"]!.AsArray().Count);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(Admin, $"/api/datasets/{id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(owner, $"/api/datasets/{id}/content")).Status);
        Assert.DoesNotContain((await Api.GetOkAsync(Admin, "/api/datasets?limit=1000"))["items"]!.AsArray(), d =>
            d!["id"]!.GetValue<string>() == id);

        // The rest follows by events, within seconds.
        await Api.EventuallyAsync(async () => new JsonObject
        {
            ["run"] = (int)(await Api.GetAsync(Admin, $"/api/runs/{runId}")).Status,
            ["their run"] = (int)(await Api.GetAsync(Admin, $"/api/runs/{otherRunId}")).Status,
            ["model"] = (int)(await Api.GetAsync(Admin, $"/api/models/{name}")).Status,
            ["their model"] = (int)(await Api.GetAsync(Admin, $"/api/models/{otherName}")).Status,
            ["tokenizers"] = (await Api.GetOkAsync(Admin, $"/api/tokenizers?datasetId={id}"))["items"]!.AsArray().Count,
            ["evaluations"] = (await Api.GetOkAsync(Admin,
            $"/api/evaluations?runId={runId}"))["items"]!.AsArray().Count,
            ["served"] = (await Api.GetOkAsync(Admin, "/v1/models"))["data"]!.AsArray().Count(v =>
            v!["id"]!.GetValue<string>().StartsWith(name)),
            ["files"] = new JsonArray(Api.FilesContaining(stack.ArtifactsRoot, marker).Select(f =>
            (JsonNode)f).ToArray()),
        },
            s => s["run"]!.GetValue<int>() == 404 && s["model"]!.GetValue<int>() == 404
            && s["tokenizers"]!.GetValue<int>() == 0
                 && s["their run"]!.GetValue<int>() == 404 && s["their model"]!.GetValue<int>() == 404
                 && s["evaluations"]!.GetValue<int>() == 0 && s["served"]!.GetValue<int>() == 0
                 && s["files"]!.AsArray().Count == 0,
            TimeSpan.FromSeconds(60), stack.Logs);
        Assert.False(Directory.Exists(Path.Combine(stack.ArtifactsRoot, "runs", Guid.Parse(runId).ToString("N"))));
        Assert.False(Directory.Exists(Path.Combine(stack.ArtifactsRoot, "tokenizers",
            Guid.Parse(tokenizer["id"]!.GetValue<string>()).ToString("N"))));
        Assert.Equal(HttpStatusCode.NotFound,
            (await Api.PostJsonAsync(Admin, "/api/generate", $"{{\"model\":\"{name}\",\"prompt\":\"a\"}}")).Status);

        // The audit log keeps what the cascade took, of whom; the client never saw the header that carried it.
        var audit = (await Api.GetOkAsync(Admin, "/api/audit?limit=100"))["items"]!.AsArray();
        var entry = audit.Single(e => e!["method"]!.GetValue<string>() == "DELETE"
                                      && e["path"]!.GetValue<string>() == $"/api/datasets/{id}?cascade=true")!;
        Assert.Equal((202, "data-owner"), (entry["status"]!.GetValue<int>(), entry["keyName"]!.GetValue<string>()));
        var detail = entry["detail"]!.GetValue<string>();
        foreach (var expected in new[] { runId, otherRunId, name, otherName, "other-editor", "production" })
            Assert.Contains(expected, detail);
    }

    [Fact]
    public async Task A_run_its_deleter_was_not_shown_is_cancelled_not_deleted_and_without_cascade_nothing_is_deleted()
    {
        var datasetId = await Api.TokenizedDatasetAsync(Admin, Api.DemoCorpus[..20_000], "late-run-data", Deadline,
            stack.Logs);
        var spec = $"{Tiny},\"training\":{{\"maxSteps\":100000,\"evalInterval\":1000,\"evalIters\":1}}";
        var listedRun = await Api.StartRunAsync(Admin, datasetId, "late-listed", spec, stack.Logs);
        var lateRun = await Api.StartRunAsync(Admin, datasetId, "late-unlisted", spec, stack.Logs);
        // What Ingestion sends when a run was created after its list was made: only the listed run is to go.
        var user = stack.RabbitMq.UserInfo.Split(':');
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(stack.RabbitMq.Host, (ushort)stack.RabbitMq.Port,
            stack.RabbitMq.AbsolutePath.TrimStart('/'), h => { h.Username(user[0]); h.Password(user[1]); }));
        await bus.StartAsync();
        try
        {
            await bus.Publish(new Platform.Contracts.DatasetDeleted(Guid.Parse(datasetId), Cascade: true,
                new Platform.Contracts.Owner(Guid.NewGuid(), "deleter"), DateTimeOffset.UtcNow)
            {
                Runs = [Guid.Parse(listedRun)],
                ModelVersions = [],
            });
        }
        finally
        {
            await bus.StopAsync();
        }
        var states = await Api.EventuallyAsync(async () => new JsonObject
        {
            ["listed"] = (int)(await Api.GetAsync(Admin, $"/api/runs/{listedRun}")).Status,
            ["unlisted"] = (await Api.GetAsync(Admin, $"/api/runs/{lateRun}")).Body?["state"]?.GetValue<string>(),
        }, s => s["listed"]!.GetValue<int>() == 404 && s["unlisted"]?.GetValue<string>() == "Cancelled",
            TimeSpan.FromSeconds(60), stack.Logs);
        Assert.Equal("Cancelled", states["unlisted"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_run_deleted_while_it_trains_stops_and_then_disappears_with_its_checkpoints()
    {
        var (_, dataset) = await Api.UploadAsync(Admin, Encoding.UTF8.GetBytes(Api.DemoCorpus[..30_000]), "run-delete",
            tokenizer: "char");
        var datasetId = dataset!["id"]!.GetValue<string>();
        var (_, run) = await Api.PostJsonAsync(Admin, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"deleted-live\",{Tiny},\"training\":{{\"maxSteps\":100000," +
            $"\"evalInterval\":20,\"evalIters\":1}}}}");
        var runId = run!["id"]!.GetValue<string>();
        await Api.EventuallyAsync(() => Api.GetOkAsync(Admin, $"/api/runs/{runId}"), r =>
            r["latestCheckpoint"] is not null,
            Deadline, stack.Logs);
        var folder = Path.Combine(stack.ArtifactsRoot, "runs", Guid.Parse(runId).ToString("N"));
        Assert.True(Directory.Exists(folder));

        var (status, body) = await Api.SendAsync(Admin, HttpMethod.Delete, $"/api/runs/{runId}");
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status}: {body}");
        Assert.Equal("DeleteRequested", body!["state"]!.GetValue<string>());
        await Api.EventuallyAnswersAsync(Admin, $"/api/runs/{runId}", HttpStatusCode.NotFound, stack.Logs, seconds: 60);
        await Api.EventuallyAsync(() => Task.FromResult<JsonNode>(JsonValue.Create(Directory.Exists(folder))), e =>
            !e.GetValue<bool>(),
            TimeSpan.FromSeconds(30), stack.Logs);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(Admin, $"/api/runs/{runId}/metrics")).Status);

        // A dataset with no runs left goes at once.
        var (gone, _) = await Api.SendAsync(Admin, HttpMethod.Delete, $"/api/datasets/{datasetId}");
        Assert.Equal(HttpStatusCode.Accepted, gone);
    }
}
