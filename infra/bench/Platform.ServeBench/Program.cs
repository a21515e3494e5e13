using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Platform.ServiceDefaults.Security;

// Serving benchmark against a running stack (e.g. after infra/demo.sh):
//   bash infra/bench/serve.sh [--model NAME] [--clients 8] [--requests 10] [--max-tokens 100]
//                             [--batching 1,4,16,64] [--block256-model bench-block256] [--seconds 20] [--rounds 1]
// The continuous-batching table streams /v1/completions through the gateway from 1, 4, 16 and 64 clients at once, for
// the demo's small model and for a block-256 model (6×6×384), which it trains for a few steps first when it is missing
// (the weights' quality does not change the cost of a step).
// With the admin key (PLATFORM_ADMIN_KEY) it creates a viewer key of its own, with limits that do not throttle it,
// and revokes it at the end; the direct calls to Generation carry a caller signed with PLATFORM_INTERNAL_SECRET.
string Arg(string flag, string fallback) => args.SkipWhile(a => a != flag).Skip(1).DefaultIfEmpty(fallback).First();
string Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
    ? value
    : throw new InvalidOperationException($"{name} is not set (infra/bench/serve.sh reads it from .data/).");
var gatewayAddress = new Uri(Arg("--gateway", "http://127.0.0.1:8080"));
using var admin = new HttpClient { BaseAddress = gatewayAddress };
admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Env("PLATFORM_ADMIN_KEY"));
using var created = await admin.PostAsJsonAsync("/api/keys",
    new { name = "serve-bench", role = "viewer", requestsPerSecond = 100_000, maxConcurrentGenerations = 1_000 });
var benchKey = JsonNode.Parse(await created.EnsureSuccessStatusCode().Content.ReadAsStringAsync())!;
var gateway = new HttpClient { BaseAddress = gatewayAddress, Timeout = TimeSpan.FromMinutes(5) };
gateway.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
    benchKey["key"]!.GetValue<string>());
var direct = new HttpClient(new ServiceIdentityHandler(new CallerSignature(Env("PLATFORM_INTERNAL_SECRET")),
        new ServiceName("serve-bench"), "generation")
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
Console.WriteLine($"== gateway overhead (GET /v1/models, 500 each; the gateway looks the key up, rate-limits and " +
    $"signs): p50 {P(viaGateway, 50):F3} ms via gateway, {P(straight, 50):F3} ms direct, " +
                  $"overhead {P(viaGateway, 50) - P(straight, 50):F3} ms");
// What the key costs, inside the gateway alone: an endpoint that needs none against one that looks the key up.
await Latencies(gateway, "/health/live", 50);
var open = await Latencies(gateway, "/health/live", 500);
var keyed = await Latencies(gateway, "/api/keys/me", 500);
Console.WriteLine(
    $"== key check in the gateway (500 each, nothing proxied): p50 {P(open, 50):F3} ms GET /health/live " +
    $"(no key), {P(keyed, 50):F3} ms GET /api/keys/me (key looked up, rate-limited), difference " +
    $"{P(keyed, 50) - P(open, 50):F3} ms");

// 2. Time to first token: the first streamed chunk of /v1/completions.
var ttft = new List<double>();
for (var i = 0; i < 10; i++)
{
    var clock = Stopwatch.StartNew();
    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
    {
        Content = new StringContent(
            $"{{\"model\":\"{model}\",\"prompt\":\"ROMEO:\",\"max_tokens\":50,\"stream\":true,\"seed\":{i}}}",
            Encoding.UTF8, "application/json"),
    };
    using var response = await gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
    while (await reader.ReadLineAsync() is { } line && !line.StartsWith("data: {", StringComparison.Ordinal))
    { }
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
                  $"p50 {P(latencies, 50):F0} ms, p99 {P(latencies, 99):F0} ms, total " +
                  $"{tokens / wall.Elapsed.TotalSeconds:N0} tokens/s");

// 4. Continuous batching: streamed completions from N clients at once, each sending its next request when one ends.
var block256 = Arg("--block256-model", "bench-block256");
await EnsureBlock256Async();
var seconds = double.Parse(Arg("--seconds", "20"), System.Globalization.CultureInfo.InvariantCulture);
var levels = Arg("--batching", "1,4,16,64").Split(',').Select(int.Parse).ToArray();
// Rounds of all levels, one after another: this machine's speed drifts, so with several the median of each level's
// ratio to its own round's single client is printed too.
var rounds = int.Parse(Arg("--rounds", "1"));
foreach (var name in new[] { model, block256 })
{
    // One request first: it may load the model and allocates the batch's cache (and packs its weights), which a
    // serving model does once, not once per level.
    var warm = await StreamLoadAsync(name, 1, TimeSpan.FromMilliseconds(50));
    Console.WriteLine($"\n== continuous batching, {name}: streamed /v1/completions through the gateway, {maxTokens} " +
        $"tokens each, {seconds:F0} s per level (a first request, which loads the model and allocates the batch, " +
        $"took {warm.Firsts[0]:F0} ms to its first token)");
    Console.WriteLine("   clients   tokens/s   × 1 client   TTFT p50   TTFT p99   ITL p50   ITL p99   requests"
        + (rounds > 1 ? "   round" : ""));
    var ratios = levels.ToDictionary(l => l, _ => new List<double>());
    for (var round = 1; round <= rounds; round++)
    {
        double? single = null;
        foreach (var level in levels)
        {
            var (rate, firsts, gaps, done) = await StreamLoadAsync(name, level, TimeSpan.FromSeconds(seconds));
            single ??= rate;
            ratios[level].Add(rate / single.Value);
            Console.WriteLine($"   {level,7}   {rate,8:N0}   {rate / single,10:F2}×   {P(firsts, 50),6:F0} ms   " +
                $"{P(firsts, 99),6:F0} ms   {P(gaps, 50),5:F1} ms   {P(gaps, 99),5:F1} ms   {done,8}" +
                              (rounds > 1 ? $"   {round,5}" : ""));
        }
    }
    if (rounds > 1)
        Console.WriteLine("   median × 1 client over the rounds: "
            + string.Join(", ", levels.Select(l => $"{l} clients {ratios[l].Order().ElementAt(rounds / 2):F2}×")));
}

await admin.DeleteAsync($"/api/keys/{benchKey["id"]}");

// Clients stream completions back to back for the given time; a token is a streamed chunk with text (a character for
// the char tokenizer). Time to first token: request sent to first chunk; inter-token latency: between a stream's
// chunks.
async Task<(double Rate, List<double> Firsts, List<double> Gaps, int Done)> StreamLoadAsync(string name,
    int clientCount, TimeSpan duration)
{
    var firsts = new List<double>();
    var gaps = new List<double>();
    long tokenCount = 0;
    var done = 0;
    var wall = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clientCount).Select(async client =>
    {
        for (var i = 0; wall.Elapsed < duration; i++)
        {
            var clock = Stopwatch.StartNew();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = JsonContent.Create(new
                {
                    model = name,
                    prompt = "ROMEO:",
                    max_tokens = maxTokens,
                    temperature = 0.8,
                    top_k = 40,
                    stream = true,
                    seed = client * 100_000 + i
                }),
            };
            using var response = await gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            double? previous = null;
            var mine = new List<double>();
            double first = 0;
            var count = 0;
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("data: {", StringComparison.Ordinal))
                    continue;
                var text = JsonNode.Parse(line[6..])!["choices"]![0]!["text"]!.GetValue<string>();
                if (text.Length == 0)
                    continue;
                var now = clock.Elapsed.TotalMilliseconds;
                if (previous is { } p)
                    mine.Add(now - p);
                else
                    first = now;
                previous = now;
                count++;
            }
            lock (gaps)
            {
                firsts.Add(first);
                gaps.AddRange(mine);
                tokenCount += count;
                done++;
            }
        }
    }));
    return (tokenCount / wall.Elapsed.TotalSeconds, firsts, gaps, done);
}

// The block-256 model: trained for a few steps on the demo's dataset when /v1/models does not list it.
async Task EnsureBlock256Async()
{
    async Task<bool> Listed() =>
        JsonNode.Parse(await gateway.GetStringAsync("/v1/models"))!["data"]!.AsArray().Any(m =>
        m!["id"]!.GetValue<string>() == block256);
    if (await Listed())
        return;
    var datasets = JsonNode.Parse(await admin.GetStringAsync("/api/datasets"))!;
    var items = (datasets as JsonArray) ?? datasets["items"]!.AsArray();
    var dataset = items.First(d => d!["state"]!.GetValue<string>() == "Tokenized"
        && d["format"]?.GetValue<string>() is null or "text")!;
    Console.WriteLine($"\n== training {block256} (6×6×384, block 256) for 10 steps on dataset {dataset["name"]} to " +
        $"serve it");
    using var run = await admin.PostAsJsonAsync("/api/runs", new
    {
        datasetId = dataset["id"]!.GetValue<string>(),
        name = block256,
        model = new { nLayer = 6, nHead = 6, nEmbd = 384, blockSize = 256, dropout = 0.0 },
        training = new { maxSteps = 10, batchSize = 4, warmupSteps = 2, evalInterval = 10, evalIters = 2 },
    });
    run.EnsureSuccessStatusCode();
    var deadline = Stopwatch.StartNew();
    while (!await Listed())
    {
        if (deadline.Elapsed > TimeSpan.FromMinutes(20))
            throw new TimeoutException($"{block256} was not registered within 20 minutes.");
        await Task.Delay(5000);
    }
}

static double P(List<double> values, int percentile)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
}
