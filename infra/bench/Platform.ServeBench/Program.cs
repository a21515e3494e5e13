using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Platform.ServiceDefaults.Security;

// Serving benchmark against a running stack (e.g. after infra/demo.sh):
//   bash infra/bench/serve.sh [--model NAME] [--clients 8] [--requests 10] [--max-tokens 100]
// With the admin key (PLATFORM_ADMIN_KEY) it creates a viewer key of its own, with limits that do not throttle it,
// and revokes it at the end; the direct calls to Generation carry a caller signed with PLATFORM_INTERNAL_SECRET.
string Arg(string flag, string fallback) => args.SkipWhile(a => a != flag).Skip(1).DefaultIfEmpty(fallback).First();
string Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
    ? value
    : throw new InvalidOperationException($"{name} is not set (infra/bench/serve.sh reads it from .data/).");
var gatewayAddress = new Uri(Arg("--gateway", "http://127.0.0.1:8080"));
using var admin = new HttpClient { BaseAddress = gatewayAddress };
admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Env("PLATFORM_ADMIN_KEY"));
using var created = await admin.PostAsJsonAsync("/api/keys", new { name = "serve-bench", role = "viewer", requestsPerSecond = 100_000, maxConcurrentGenerations = 1_000 });
var benchKey = JsonNode.Parse(await created.EnsureSuccessStatusCode().Content.ReadAsStringAsync())!;
var gateway = new HttpClient { BaseAddress = gatewayAddress, Timeout = TimeSpan.FromMinutes(5) };
gateway.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", benchKey["key"]!.GetValue<string>());
var direct = new HttpClient(new ServiceIdentityHandler(new CallerSignature(Env("PLATFORM_INTERNAL_SECRET")), new ServiceName("serve-bench"))
    { InnerHandler = new HttpClientHandler() })
{
    BaseAddress = new Uri(Arg("--direct", "http://127.0.0.1:8085")),
    Timeout = TimeSpan.FromMinutes(5),
};
var model = Arg("--model", "tinyshakespeare-char");
var clients = int.Parse(Arg("--clients", "8"));
var requests = int.Parse(Arg("--requests", "10"));
var maxTokens = int.Parse(Arg("--max-tokens", "100"));

// 1. Gateway overhead: the same small request straight to the Generation service and through the gateway.
async Task<List<double>> Latencies(HttpClient http, string path, int count)
{
    var list = new List<double>();
    for (var i = 0; i < count; i++)
    {
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync(path);
        await response.Content.ReadAsByteArrayAsync();
        response.EnsureSuccessStatusCode();
        list.Add(clock.Elapsed.TotalMilliseconds);
    }
    return list;
}
await Latencies(gateway, "/v1/models", 50);
await Latencies(direct, "/v1/models", 50);
var viaGateway = await Latencies(gateway, "/v1/models", 500);
var straight = await Latencies(direct, "/v1/models", 500);
Console.WriteLine($"== gateway overhead (GET /v1/models, 500 each; the gateway looks the key up, rate-limits and signs): p50 {P(viaGateway, 50):F3} ms via gateway, {P(straight, 50):F3} ms direct, " +
                  $"overhead {P(viaGateway, 50) - P(straight, 50):F3} ms");
// What the key costs, inside the gateway alone: an endpoint that needs none against one that looks the key up.
await Latencies(gateway, "/health/live", 50);
var open = await Latencies(gateway, "/health/live", 500);
var keyed = await Latencies(gateway, "/api/keys/me", 500);
Console.WriteLine($"== key check in the gateway (500 each, nothing proxied): p50 {P(open, 50):F3} ms GET /health/live (no key), " +
                  $"{P(keyed, 50):F3} ms GET /api/keys/me (key looked up, rate-limited), difference {P(keyed, 50) - P(open, 50):F3} ms");

// 2. Time to first token: the first streamed chunk of /v1/completions.
var ttft = new List<double>();
for (var i = 0; i < 10; i++)
{
    var clock = Stopwatch.StartNew();
    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
    {
        Content = new StringContent($"{{\"model\":\"{model}\",\"prompt\":\"ROMEO:\",\"max_tokens\":50,\"stream\":true,\"seed\":{i}}}", Encoding.UTF8, "application/json"),
    };
    using var response = await gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
    while (await reader.ReadLineAsync() is { } line && !line.StartsWith("data: {", StringComparison.Ordinal)) { }
    ttft.Add(clock.Elapsed.TotalMilliseconds);
    await reader.ReadToEndAsync();
}
Console.WriteLine($"== time to first token (streamed, through the gateway): p50 {P(ttft, 50):F1} ms");

// 3. Concurrent clients through the gateway.
var latencies = new List<double>();
var tokens = 0L;
var wall = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, clients).Select(async client =>
{
    for (var i = 0; i < requests; i++)
    {
        var clock = Stopwatch.StartNew();
        using var response = await gateway.PostAsJsonAsync("/api/generate",
            new { model, prompt = "ROMEO:", maxTokens, temperature = 0.8, topK = 40, seed = client * 1000 + i });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        response.EnsureSuccessStatusCode();
        lock (latencies)
        {
            latencies.Add(clock.Elapsed.TotalMilliseconds);
            tokens += body["completionTokens"]!.GetValue<int>();
        }
    }
}));
wall.Stop();
Console.WriteLine($"== {clients} concurrent clients × {requests} requests × {maxTokens} tokens through the gateway: " +
                  $"p50 {P(latencies, 50):F0} ms, p99 {P(latencies, 99):F0} ms, total {tokens / wall.Elapsed.TotalSeconds:N0} tokens/s");

await admin.DeleteAsync($"/api/keys/{benchKey["id"]}");

static double P(List<double> values, int percentile)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
}
