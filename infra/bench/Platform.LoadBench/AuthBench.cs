using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

/// <summary>
/// Unknown keys against a valid one: a valid key's latency alone, then the same key while clients send requests with
/// random keys at once. Prints p50/p99 of each, the ratio, and how the random keys were answered (401 looked up,
/// 429 refused unlooked past the address's failed-authentication budget).
/// </summary>
public static class AuthBench
{
    public static async Task<int> RunAsync(HttpClient admin, int guesses, int samples)
    {
        using var created = await admin.PostAsJsonAsync("/api/keys",
            new { name = $"auth-bench-{DateTime.UtcNow:HHmmss}", role = "viewer", requestsPerSecond = 10_000 });
        var key = JsonNode.Parse(await created.EnsureSuccessStatusCode().Content.ReadAsStringAsync())!;
        using var valid = new HttpClient { BaseAddress = admin.BaseAddress };
        valid.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Bearer", key["key"]!.GetValue<string>());
        try
        {
            await SampleAsync(valid, 20); // warm-up: connections, the key's cached lookup
            var alone = await SampleAsync(valid, samples);
            var guessed = new List<(HttpStatusCode Status, double Ms)>();
            var flood = Task.WhenAll(Enumerable.Range(0, guesses).Select(async _ =>
            {
                using var guesser = new HttpClient { BaseAddress = admin.BaseAddress };
                var guess = "plk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
                guesser.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", guess);
                var sent = Stopwatch.StartNew();
                using var response = await guesser.GetAsync("/api/runs");
                lock (guessed)
                    guessed.Add((response.StatusCode, sent.Elapsed.TotalMilliseconds));
            }));
            var underFlood = await SampleAsync(valid, samples);
            await flood;
            Console.WriteLine($"== valid key alone, {samples} requests one after another: " +
                              $"p50 {Percentile.Of(alone, 50):F1} ms, p99 {Percentile.Of(alone, 99):F1} ms");
            Console.WriteLine($"== the same during {guesses} concurrent requests with random keys: p50 " +
                              $"{Percentile.Of(underFlood, 50):F1} ms, p99 {Percentile.Of(underFlood, 99):F1} ms " +
                              $"(p99 ratio {Percentile.Of(underFlood, 99) / Percentile.Of(alone, 99):F2})");
            var byStatus = string.Join(", ", guessed.GroupBy(g => (int)g.Status).OrderBy(g => g.Key)
                .Select(g => $"{g.Key}: {g.Count()} " +
                             $"(p50 {Percentile.Of([.. g.Select(x => x.Ms).Order()], 50):F1} ms)"));
            Console.WriteLine($"   random keys answered {byStatus}");
            return guessed.All(g => g.Status is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests) ? 0 : 1;
        }
        finally
        {
            using var _ = await admin.DeleteAsync($"/api/keys/{key["id"]!.GetValue<string>()}");
        }
    }

    private static async Task<List<double>> SampleAsync(HttpClient http, int count)
    {
        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var sent = Stopwatch.StartNew();
            using var response = await http.GetAsync("/api/keys/me");
            response.EnsureSuccessStatusCode();
            times.Add(sent.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times;
    }
}
