using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// Second instances of the workers (same database, same virtual host, their own ports), started and stopped by the
/// tests. Two Generation replicas behind one gateway, as configuration alone sets them up (a second destination in the
/// generation cluster; its load balancing, health checks and retry come from the gateway's appsettings.json): requests
/// spread over both, and a replica killed with kill -9 under load costs the clients no more than the requests it was
/// serving at that moment.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ReplicaTests(PlatformStack stack)
{
    private const string Model = "replicas";
    private const int ReplicaPort = 18087, SecondGatewayPort = 18088;
    private const string Request = $"{{\"model\":\"{Model}\",\"prompt\":\"The \",\"maxTokens\":20,\"seed\":1}}";
    private const string TinyModel =
        "\"model\":{\"nLayer\":1,\"nHead\":2,\"nEmbd\":32,\"blockSize\":32,\"dropout\":0.0}";
    private static string Training(int steps, int evalInterval = 100) =>
        $"\"training\":{{\"maxSteps\":{steps},\"batchSize\":8,\"learningRate\":0.003," +
        $"\"warmupSteps\":5,\"evalInterval\":{evalInterval},\"evalIters\":2,\"seed\":5}}";

    [Fact]
    public async Task Generation_requests_spread_over_two_replicas_and_a_killed_one_costs_only_its_requests_in_flight()
    {
        var autoTrain = $"{{\"name\":\"{Model}\",{TinyModel},{Training(30)}}}";
        var (status, _) = await Api.UploadAsync(stack.Gateway, Encoding.UTF8.GetBytes(Api.DemoCorpus[..20_000]),
            "replicas-data", autoTrain, tokenizer: "char");
        Assert.Equal(HttpStatusCode.Accepted, status);
        await Api.EventuallyAsync(async () =>
            JsonValue.Create((int)(await Api.PostJsonAsync(stack.Gateway, "/api/generate", Request)).Status),
            s => s.GetValue<int>() == 200, TimeSpan.FromMinutes(4), stack.Logs);

        // The replica logs each request it serves, so the test can tell the two apart.
        stack.StartInstance("Generation", "Generation-2", ReplicaPort,
            new Dictionary<string,
            string>
            { ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information" });
        stack.StartInstance("Gateway", "Gateway-2", SecondGatewayPort, new Dictionary<string, string>
        {
            ["ReverseProxy__Clusters__generation__Destinations__replica__Address"] = $"http://127.0.0.1:{ReplicaPort}",
            ["ReverseProxy__Clusters__generation__HealthCheck__Active__Interval"] = "00:00:01",
        });
        using var gateway = PlatformStack.ClientWithKey(stack.AdminKey);
        gateway.BaseAddress = new Uri($"http://127.0.0.1:{SecondGatewayPort}");
        try
        {
            // The second gateway is ready once a replica of every service is; the new replica, once it serves.
            await Api.EventuallyAsync(async () =>
                JsonValue.Create(await Api.ReadyAsync(SecondGatewayPort) && await Api.ReadyAsync(ReplicaPort)),
                ready => ready.GetValue<bool>(), TimeSpan.FromSeconds(90), stack.Logs);

            // The second gateway sends the replica requests once its own probe (every second) has found it serving:
            // until then it still counts the replica as it found it before the replica had started, unhealthy.
            await Api.EventuallyAsync(async () =>
                {
                    var served = ServedByReplica();
                    await Api.PostJsonAsync(gateway, "/api/generate", Request);
                    return JsonValue.Create(ServedByReplica() > served);
                }, reached => reached.GetValue<bool>(), TimeSpan.FromSeconds(60),
                () => stack.LogsOf("Gateway-2"));

            // Spread: of 30 requests one after another, each replica serves some (all on one: odds of 2 in 2^30).
            var before = ServedByReplica();
            for (var i = 0; i < 30; i++)
                Assert.Equal(HttpStatusCode.OK, (await Api.PostJsonAsync(gateway, "/api/generate", Request)).Status);
            var byReplica = ServedByReplica() - before;
            Assert.True(byReplica is > 0 and < 30,
                $"the replica served {byReplica} of 30 requests\n{stack.LogsOf("Gateway-2")}");

            // Failover: two clients keep requesting while the replica is killed; at most the requests it was serving
            // fail.
            var statuses = new ConcurrentQueue<(DateTime At, HttpStatusCode Status)>();
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    HttpStatusCode code;
                    try
                    {
                        code = (await Api.PostJsonAsync(gateway, "/api/generate", Request)).Status;
                    }
                    catch (HttpRequestException)
                    {
                        code = HttpStatusCode.ServiceUnavailable;
                    }
                    statuses.Enqueue((DateTime.UtcNow, code));
                }
            })).ToList();
            await Task.Delay(TimeSpan.FromSeconds(3));
            var servedBeforeKill = ServedByReplica();
            var killedAt = DateTime.UtcNow;
            await stack.StopAsync("Generation-2"); // kill -9
            await Task.Delay(TimeSpan.FromSeconds(6));
            stop.Cancel();
            await Task.WhenAll(clients);

            var failed = statuses.Where(s => s.Status != HttpStatusCode.OK).ToList();
            var afterKill = statuses.Count(s => s.At > killedAt);
            Assert.True(servedBeforeKill > byReplica + before,
                "the replica served nothing under load before it was killed");
            Assert.True(afterKill >= 4, $"only {afterKill} requests ended after the kill");
            Assert.True(failed.Count <= 2,
                $"{failed.Count} requests failed, more than the two that can be in flight: " +
                $"{string.Join(", ", failed.Select(f => $"{(int)f.Status} at {f.At:HH:mm:ss.fff}"))} " +
                $"(killed at {killedAt:HH:mm:ss.fff})\n{stack.LogsOf("Gateway-2")}");
            // After the kill the survivor takes everything: the last requests all succeed.
            Assert.All(statuses.Where(s => s.At > killedAt + TimeSpan.FromSeconds(2)), s =>
                Assert.Equal(HttpStatusCode.OK, s.Status));
        }
        finally
        {
            await stack.StopAsync("Generation-2");
            await stack.StopAsync("Gateway-2");
        }
    }

    [Fact]
    public async Task Second_workers_share_the_work_each_piece_is_done_once_and_a_worker_added_later_takes_queued_runs()
    {
        var http = stack.Gateway;
        var deadline = TimeSpan.FromMinutes(4);
        stack.StartInstance("Tokenization", "Tokenization-2", 18089);
        stack.StartInstance("Evaluation", "Evaluation-2", 18091);
        try
        {
            await Api.EventuallyAsync(async () =>
                JsonValue.Create(await Api.ReadyAsync(18089) && await Api.ReadyAsync(18091)),
                ready => ready.GetValue<bool>(), TimeSpan.FromSeconds(90), stack.Logs);

            // Six datasets uploaded at once: each is tokenized exactly once, and both tokenization instances take some.
            var uploads = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
                Api.UploadAsync(http, Encoding.UTF8.GetBytes(Api.DemoCorpus[(i * 5_000)..((i + 1) * 5_000 + 10_000)]),
                $"scale-out-{i}", tokenizer: "char")));
            Assert.All(uploads, u => Assert.Equal(HttpStatusCode.Accepted, u.Status));
            var datasets = uploads.Select(u => u.Body!["id"]!.GetValue<string>()).ToList();
            foreach (var id in datasets)
            {
                await Api.EventuallyAsync(() => Api.GetOkAsync(http, $"/api/datasets/{id}"), d =>
                    d["state"]!.GetValue<string>() == "Tokenized", deadline, stack.Logs);
                Assert.Single((await Api.GetOkAsync(http, $"/api/tokenizers?datasetId={id}"))["items"]!.AsArray());
                Assert.Equal(1, Api.CountOf(stack.LogsOf("Tokenization"), $"Dataset {id}: char tokenizer"));
            }
            var bySecond = datasets.Count(id =>
                stack.LogsOf("Tokenization-2").Contains($"Dataset {id}: char tokenizer"));
            Assert.True(bySecond is > 0 and < 6,
                $"Tokenization-2 tokenized {bySecond} of the 6 datasets\n{stack.LogsOf("Tokenization")}");

            // One worker is busy with a long run, so the next two wait in the queue; a worker started now takes them.
            var busy = await StartRunAsync(datasets[0], "scale-out-busy", Platform.Contracts.RunSpecValidator.MaxSteps,
                1_000);
            await Api.EventuallyAsync(() => Api.GetOkAsync(http, $"/api/runs/{busy}"), r =>
                r["state"]!.GetValue<string>() == "Training", deadline, stack.Logs);
            var queued = new[] { await StartRunAsync(datasets[1], "scale-out-a", 40, 20),
                await StartRunAsync(datasets[2], "scale-out-b", 40, 20) };
            await Task.Delay(TimeSpan.FromSeconds(3));
            foreach (var runId in queued)
                Assert.Equal("Queued", (await Api.GetOkAsync(http, $"/api/runs/{runId}"))["state"]!.GetValue<string>());

            stack.StartInstance("Training", "Training-2", 18086);
            try
            {
                foreach (var runId in queued)
                {
                    var ended = await Api.EventuallyAsync(() => Api.GetOkAsync(http, $"/api/runs/{runId}"),
                        r => r["state"]!.GetValue<string>() is "Completed" or "Failed" or "Cancelled", deadline,
                        stack.Logs);
                    Assert.True(ended["state"]!.GetValue<string>() == "Completed",
                        $"run ended {ended}\n{stack.Logs()}");
                    // Trained once, by the new worker while the first one stayed busy, evaluated once, registered once.
                    Assert.Equal(1, Api.CountOf(stack.LogsOf("Training"), $"run {runId} claimed by"));
                    Assert.Contains($"run {runId} claimed by Training-2", stack.LogsOf("Training-2"));
                    Assert.Equal(1, Api.CountOf(stack.LogsOf("Evaluation"), $"run {runId} evaluated:"));
                    Assert.Single((await Api.GetOkAsync(http, $"/api/evaluations?runId={runId}"))["items"]!.AsArray());
                    Assert.Single((await Api.GetOkAsync(http,
                        $"/api/models/{ended["name"]!.GetValue<string>()}"))["versions"]!.AsArray());
                }
                Assert.Equal("Training",
                    (await Api.GetOkAsync(http, $"/api/runs/{busy}"))["state"]!.GetValue<string>());
                foreach (var instance in new[] { "Tokenization-2", "Evaluation-2", "Training-2" })
                    Assert.False(stack.HasExited(instance), $"{instance} exited\n{stack.LogsOf(instance)}");
            }
            finally
            {
                await Api.PostJsonAsync(http, $"/api/runs/{busy}/cancel", "{}");
                await Api.EventuallyAsync(() => Api.GetOkAsync(http, $"/api/runs/{busy}"), r =>
                    r["state"]!.GetValue<string>() == "Cancelled", deadline, stack.Logs);
                await stack.StopAsync("Training-2");
            }
        }
        finally
        {
            await stack.StopAsync("Tokenization-2");
            await stack.StopAsync("Evaluation-2");
        }
    }

    private Task<string> StartRunAsync(string datasetId, string name, int steps, int evalInterval) =>
        Api.StartRunAsync(stack.Gateway, datasetId, name, $"{TinyModel},{Training(steps, evalInterval)}", stack.Logs);

    private int ServedByReplica() =>
        Api.CountOf(stack.LogsOf("Generation-2"), $"POST http://127.0.0.1:{ReplicaPort}/api/generate - 200");
}
