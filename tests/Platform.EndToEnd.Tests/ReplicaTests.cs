using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// Two Generation replicas behind one gateway, as configuration alone sets them up (a second destination in the
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

    [Fact]
    public async Task Generation_requests_spread_over_two_replicas_and_a_killed_one_costs_only_its_requests_in_flight()
    {
        var autoTrain = $"{{\"name\":\"{Model}\",\"model\":{{\"nLayer\":1,\"nHead\":2,\"nEmbd\":32,\"blockSize\":32,\"dropout\":0.0}}," +
                        "\"training\":{\"maxSteps\":30,\"batchSize\":8,\"learningRate\":0.003,\"warmupSteps\":5,\"evalInterval\":100,\"evalIters\":2,\"seed\":5}}";
        var (status, _) = await Api.UploadAsync(stack.Gateway, Encoding.UTF8.GetBytes(Api.DemoCorpus[..20_000]), "replicas-data", autoTrain, tokenizer: "char");
        Assert.Equal(HttpStatusCode.Accepted, status);
        await Api.EventuallyAsync(async () => JsonValue.Create((int)(await Api.PostJsonAsync(stack.Gateway, "/api/generate", Request)).Status),
            s => s.GetValue<int>() == 200, TimeSpan.FromMinutes(4), stack.Logs);

        // The replica logs each request it serves, so the test can tell the two apart.
        stack.StartInstance("Generation", "Generation-2", ReplicaPort,
            new Dictionary<string, string> { ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information" });
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
            await Api.EventuallyAsync(async () => JsonValue.Create(await ReadyAsync(gateway) && await ReadyAsync(ReplicaPort)),
                ready => ready.GetValue<bool>(), TimeSpan.FromSeconds(90), stack.Logs);

            // Spread: of 30 requests one after another, each replica serves some (all on one: odds of 2 in 2^30).
            var before = ServedByReplica();
            for (var i = 0; i < 30; i++)
                Assert.Equal(HttpStatusCode.OK, (await Api.PostJsonAsync(gateway, "/api/generate", Request)).Status);
            var byReplica = ServedByReplica() - before;
            Assert.True(byReplica is > 0 and < 30, $"the replica served {byReplica} of 30 requests\n{stack.LogsOf("Gateway-2")}");

            // Failover: two clients keep requesting while the replica is killed; at most the requests it was serving fail.
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
            Assert.True(servedBeforeKill > byReplica + before, "the replica served nothing under load before it was killed");
            Assert.True(afterKill >= 4, $"only {afterKill} requests ended after the kill");
            Assert.True(failed.Count <= 2, $"{failed.Count} requests failed, more than the two that can be in flight: " +
                                           $"{string.Join(", ", failed.Select(f => $"{(int)f.Status} at {f.At:HH:mm:ss.fff}"))} (killed at {killedAt:HH:mm:ss.fff})\n{stack.LogsOf("Gateway-2")}");
            // After the kill the survivor takes everything: the last requests all succeed.
            Assert.All(statuses.Where(s => s.At > killedAt + TimeSpan.FromSeconds(2)), s => Assert.Equal(HttpStatusCode.OK, s.Status));
        }
        finally
        {
            await stack.StopAsync("Generation-2");
            await stack.StopAsync("Gateway-2");
        }
    }

    private int ServedByReplica() =>
        Api.CountOf(stack.LogsOf("Generation-2"), $"POST http://127.0.0.1:{ReplicaPort}/api/generate - 200");

    private static async Task<bool> ReadyAsync(HttpClient gateway)
    {
        try
        {
            using var response = await gateway.GetAsync("/health/ready");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async Task<bool> ReadyAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port}/health/ready");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
