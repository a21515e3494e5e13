using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// infra/observability against the real thing: promtool checks the scrape configuration and the alert rules, then
/// Debian's Prometheus scrapes the running test stack with that configuration and answers for it.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ObservabilityTests(PlatformStack stack) : IDisposable
{
    private static readonly string Folder = Path.Combine(PlatformStack.RepoRoot, "infra", "observability");
    private readonly string _work = Directory.CreateTempSubdirectory("prometheus-").FullName;
    private Process? _prometheus;

    private HttpClient Http => stack.Gateway;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The committed files in a folder of their own, with a key beside them where the config expects it,
    /// each line passed through <paramref name="edit"/>.</summary>
    private string Copy(string name, string key, Func<string, string>? edit = null)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_work, name)).FullName;
        foreach (var file in new[] { "prometheus.yml", "alerts.yml" })
            File.WriteAllLines(Path.Combine(folder, file),
                File.ReadAllLines(Path.Combine(Folder, file)).Select(edit ?? (l => l)));
        File.WriteAllText(Path.Combine(folder, "platform-key"), key);
        return folder;
    }

    [Fact]
    public async Task Promtool_passes_the_config_and_rules_and_a_real_prometheus_scrapes_every_service()
    {
        // A read-only key is enough to scrape.
        var (_, key) = await Api.CreateKeyAsync(Http, "prometheus", "viewer");

        var committed = Copy("committed", key);
        var (configExit, configOutput, configError) = await Script.RunProgramAsync("promtool",
            ["check", "config", Path.Combine(committed, "prometheus.yml")], timeout: TimeSpan.FromMinutes(1));
        Assert.True(configExit == 0, configOutput + configError);
        var (rulesExit, rulesOutput, rulesError) = await Script.RunProgramAsync("promtool",
            ["check", "rules", Path.Combine(committed, "alerts.yml")], timeout: TimeSpan.FromMinutes(1));
        Assert.True(rulesExit == 0, rulesOutput + rulesError);
        Assert.Contains("SUCCESS: 6 rules found", rulesOutput + rulesError);

        // Some completions, so that time to first token has observations.
        var datasetId = await Api.TokenizedDatasetAsync(Http, Api.DemoCorpus[..20_000], "observed-data",
            TimeSpan.FromMinutes(2), stack.Logs);
        var run = await Api.TrainToEndAsync(Http, $"{{\"datasetId\":\"{datasetId}\",\"name\":\"observed\"," +
            "\"model\":{\"nLayer\":1,\"nHead\":2,\"nEmbd\":32,\"blockSize\":32}," +
            "\"training\":{\"maxSteps\":10,\"batchSize\":8,\"evalInterval\":10,\"evalIters\":2}}", stack.Logs);
        for (var i = 0; i < 5; i++)
            await Api.EventuallyAsync(async () =>
            {
                var (status, _) = await Api.PostJsonAsync(Http, "/api/generate",
                    $"{{\"model\":\"observed/versions/{run["modelVersion"]}\",\"prompt\":\"ROMEO:\",\"maxTokens\":8," +
                    $"\"seed\":{i}}}");
                return new JsonObject { ["status"] = (int)status };
            }, r => r["status"]!.GetValue<int>() == 200, TimeSpan.FromMinutes(1), stack.Logs);

        // The same configuration pointed at the test stack's gateway, scraping every second.
        var gateway = $"{PlatformStack.GatewayAddress.Host}:{PlatformStack.GatewayAddress.Port}";
        var scraping = Copy("scraping", key, l => l.Replace("127.0.0.1:8080", gateway, StringComparison.Ordinal)
            .Replace("scrape_interval: 15s", "scrape_interval: 1s", StringComparison.Ordinal)
            .Replace("evaluation_interval: 15s", "evaluation_interval: 1s", StringComparison.Ordinal));
        var port = FreePort();
        _prometheus = Process.Start(new ProcessStartInfo("prometheus",
        [
            $"--config.file={Path.Combine(scraping, "prometheus.yml")}",
            $"--storage.tsdb.path={Path.Combine(_work, "data")}", $"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ])
        { RedirectStandardOutput = true, RedirectStandardError = true })!;
        _prometheus.BeginOutputReadLine();
        _prometheus.BeginErrorReadLine();
        using var prometheus = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        // Every job up: the six services through the gateway with the key, and the broker's exporter.
        var targets = await Api.EventuallyAsync(async () =>
        {
            try
            {
                return JsonNode.Parse(await prometheus.GetStringAsync("/api/v1/targets"))!["data"]!["activeTargets"]!;
            }
            catch (HttpRequestException)
            {
                return new JsonArray();
            }
        }, t => t.AsArray().Count == 7 && t.AsArray().All(x => x!["health"]!.GetValue<string>() == "up"),
            TimeSpan.FromMinutes(1), stack.Logs);
        Assert.Equal(["evaluation", "gateway", "generation", "ingestion", "rabbitmq", "tokenization", "training"],
            targets.AsArray().Select(t => t!["labels"]!["job"]!.GetValue<string>()).Order(StringComparer.Ordinal));

        async Task<JsonArray> QueryAsync(string expression)
        {
            var answer = JsonNode.Parse(await prometheus.GetStringAsync(
                $"/api/v1/query?query={Uri.EscapeDataString(expression)}"))!;
            Assert.Equal("success", answer["status"]!.GetValue<string>());
            return answer["data"]!["result"]!.AsArray();
        }

        // Buckets fitted to seconds: a 50 ms bound exists, and the median time to first token is a finite number of
        // seconds under 5 (with OpenTelemetry's default bounds every quantile would read 5 s or 0).
        Assert.NotEmpty(await QueryAsync("platform_generation_time_to_first_token_seconds_bucket{le=\"0.05\"}"));
        var median = await Api.EventuallyAsync(async () =>
        {
            var result = await QueryAsync(
                "histogram_quantile(0.5, sum by (le) (platform_generation_time_to_first_token_seconds_bucket))");
            return result.Count == 0 ? new JsonObject() : result[0]!;
        }, r => r["value"] is not null, TimeSpan.FromSeconds(30), stack.Logs);
        var seconds = double.Parse(median["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.True(double.IsFinite(seconds) && seconds > 0 && seconds < 5, $"median time to first token {seconds}");

        // Every panel of the Grafana dashboard is a query Prometheus accepts.
        var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Folder, "grafana-dashboard.json")))!;
        var expressions = dashboard["panels"]!.AsArray()
            .SelectMany(p => p!["targets"]!.AsArray().Select(t => t!["expr"]!.GetValue<string>())).ToList();
        Assert.True(expressions.Count >= 10, $"{expressions.Count} queries in the dashboard");
        foreach (var expression in expressions)
            await QueryAsync(expression);

        // The rules are loaded and evaluate without error against the live data.
        var rules = await Api.EventuallyAsync(async () =>
            JsonNode.Parse(await prometheus.GetStringAsync("/api/v1/rules"))!["data"]!["groups"]![0]!["rules"]!,
            r => r.AsArray().All(x => x!["health"]!.GetValue<string>() == "ok"), TimeSpan.FromSeconds(30), stack.Logs);
        Assert.Equal(6, rules.AsArray().Count);
    }

    public void Dispose()
    {
        if (_prometheus is { HasExited: false })
        {
            _prometheus.Kill(entireProcessTree: true);
            _prometheus.WaitForExit();
        }
        _prometheus?.Dispose();
        Directory.Delete(_work, recursive: true);
    }
}
