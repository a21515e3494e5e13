using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

// Load benchmark against a running stack (after infra/demo.sh): parallel uploads of small corpora, then concurrent
// generations, all through the gateway with an editor key of the benchmark's own (the key's default limits).
//   bash infra/bench/load.sh [--uploads 100] [--generations 50] [--model tinyshakespeare-char] [--corpus-bytes 20000]
//   bash infra/bench/load.sh --auth [--guesses 500] [--samples 200]   (see AuthBench)
// Reports p50/p99 latency and the answers by status; anything but 2xx and 429 is an error. Every upload must reach
// Tokenized.
string Arg(string flag, string fallback) => args.SkipWhile(a => a != flag).Skip(1).DefaultIfEmpty(fallback).First();
var gatewayAddress = new Uri(Arg("--gateway", "http://127.0.0.1:8080"));
var uploads = int.Parse(Arg("--uploads", "100"));
var generations = int.Parse(Arg("--generations", "50"));
var model = Arg("--model", "tinyshakespeare-char");
var corpusBytes = int.Parse(Arg("--corpus-bytes", "20000"));
var corpus = File.ReadAllText(Arg("--corpus",
    Path.Combine(AppContext.BaseDirectory, "../../../../../demo/tinyshakespeare.txt")));
var adminKey = Environment.GetEnvironmentVariable("PLATFORM_ADMIN_KEY")
    ?? throw new InvalidOperationException("PLATFORM_ADMIN_KEY is not set (load.sh reads .data/admin-key).");

using var admin = new HttpClient { BaseAddress = gatewayAddress };
admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
if (args.Contains("--auth"))
    return await AuthBench.RunAsync(admin, int.Parse(Arg("--guesses", "500")), int.Parse(Arg("--samples", "200")));
using var created = await admin.PostAsJsonAsync("/api/keys",
    new { name = $"load-bench-{DateTime.UtcNow:HHmmss}", role = "editor" });
var key = JsonNode.Parse(await created.EnsureSuccessStatusCode().Content.ReadAsStringAsync())!;
using var http = new HttpClient { BaseAddress = gatewayAddress, Timeout = TimeSpan.FromMinutes(5) };
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key["key"]!.GetValue<string>());
var errors = 0;

try
{
    // 1. Uploads, all at once: each a different slice of the corpus, char tokenizer.
    var answers = new ConcurrentBag<(HttpStatusCode Status, double Ms, string? Id)>();
    var clock = Stopwatch.StartNew();
    var allUploads = new ParallelOptions { MaxDegreeOfParallelism = uploads };
    await Parallel.ForEachAsync(Enumerable.Range(0, uploads), allUploads, async (i, ct) =>
    {
        var start = i * 997 % Math.Max(1, corpus.Length - corpusBytes);
        var slice = Encoding.UTF8.GetBytes(corpus.Substring(start, Math.Min(corpusBytes, corpus.Length)));
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(slice), "file", "corpus.txt" },
            { new StringContent($"load-{i}"), "name" },
            { new StringContent("char"), "tokenizer" },
        };
        var sent = Stopwatch.StartNew();
        using var response = await http.PostAsync("/api/datasets", form, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        answers.Add((response.StatusCode, sent.Elapsed.TotalMilliseconds,
            response.StatusCode == HttpStatusCode.Accepted ? JsonNode.Parse(body)!["id"]!.GetValue<string>() : null));
    });
    errors += Report($"{uploads} parallel uploads of {corpusBytes:N0} bytes",
        answers.Select(a => (a.Status, a.Ms)).ToList(), clock.Elapsed);

    // Every accepted upload must reach Tokenized.
    var accepted = answers.Where(a => a.Id is not null).Select(a => a.Id!).ToList();
    var tokenizedAt = new ConcurrentDictionary<string, double>();
    var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
    while (tokenizedAt.Count < accepted.Count && DateTime.UtcNow < deadline)
    {
        foreach (var id in accepted.Where(id => !tokenizedAt.ContainsKey(id)))
        {
            using var response = await http.GetAsync($"/api/datasets/{id}");
            var state = response.IsSuccessStatusCode
                ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!["state"]!.GetValue<string>()
                : null;
            if (state is "Tokenized" or "Failed")
                tokenizedAt[id] = state == "Tokenized" ? clock.Elapsed.TotalMilliseconds : -1;
        }
        await Task.Delay(200);
    }
    var tokenized = tokenizedAt.Values.Where(v => v >= 0).Order().ToList();
    var notTokenized = accepted.Count - tokenized.Count;
    errors += notTokenized;
    Console.WriteLine($"   tokenized: {tokenized.Count}/{accepted.Count}; time from the first upload to Tokenized " +
                      $"p50 {Percentile.Of(tokenized, 50):N0} ms, p99 {Percentile.Of(tokenized, 99):N0} ms, " +
                      $"last {tokenized.LastOrDefault():N0} ms" +
                      (notTokenized > 0 ? $"; {notTokenized} NOT tokenized" : ""));

    // 2. Concurrent generations of one model.
    var generated = new ConcurrentBag<(HttpStatusCode Status, double Ms)>();
    clock.Restart();
    var allGenerations = new ParallelOptions { MaxDegreeOfParallelism = generations };
    await Parallel.ForEachAsync(Enumerable.Range(0, generations), allGenerations, async (i, ct) =>
    {
        var sent = Stopwatch.StartNew();
        using var response = await http.PostAsJsonAsync("/api/generate",
            new { model, prompt = "ROMEO:", maxTokens = 50, seed = i }, ct);
        await response.Content.ReadAsByteArrayAsync(ct);
        generated.Add((response.StatusCode, sent.Elapsed.TotalMilliseconds));
    });
    errors += Report($"{generations} concurrent generations of 50 tokens ({model})", generated.ToList(), clock.Elapsed);
}
finally
{
    using var _ = await admin.DeleteAsync($"/api/keys/{key["id"]!.GetValue<string>()}");
}
Console.WriteLine(errors == 0
    ? "no errors (only 2xx and 429 answers; every accepted upload tokenized)"
    : $"{errors} ERRORS");
return errors == 0 ? 0 : 1;

static int Report(string what, List<(HttpStatusCode Status, double Ms)> answers, TimeSpan wall)
{
    var ok = answers.Where(a => (int)a.Status is >= 200 and < 300).Select(a => a.Ms).Order().ToList();
    var byStatus = string.Join(", ",
        answers.GroupBy(a => (int)a.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
    Console.WriteLine($"== {what}: {wall.TotalSeconds:F1} s; answers {byStatus}; " +
                      $"successful p50 {Percentile.Of(ok, 50):N0} ms, p99 {Percentile.Of(ok, 99):N0} ms");
    return answers.Count(a => (int)a.Status is not (>= 200 and < 300) and not 429);
}
