using System.Diagnostics;
using Platform.ML;
using static TorchSharp.torch;

/// <summary>
/// Prompts at GPT-2 small's shape (seeded random weights, as in <see cref="LlamaBench"/>), served by a
/// ContinuousBatcher over packed fp32 weights: the time to the first token of a request whose long prefix (a system
/// prompt) was prefilled by an earlier request, cold against warm and against a batcher that keeps no prefixes; and the
/// inter-token latency of streams already decoding while such a prompt arrives, prefilled in chunks and at once.
/// </summary>
internal static class PrefillBench
{
    private const int Vocab = 50_257, Block = 1_024;

    public static async Task RunAsync(int threads, int prefix, int streams, int rounds)
    {
        set_num_threads(1);
        using var model = LlamaBench.Gpt2SmallShape();
        var random = new Random(3);
        int[] Tokens(int length) => [.. Enumerable.Range(0, length).Select(_ => random.Next(Vocab))];
        Console.WriteLine($"== GPT-2 small's shape, f32 packed, {threads} product thread(s), " +
            $"{Environment.ProcessorCount} cores");

        // Time to first token: each round a new system prompt of `prefix` tokens, then two requests that share it
        // (24 tokens of their own each). Without reuse both prefill everything.
        var suffix = Block - prefix;
        foreach (var reuse in new[] { true, false })
        {
            using var batcher = Batcher(model, threads, reuse ? 128L << 20 : 0, 256);
            await FirstTokenMs(batcher, Tokens(8)); // packs the weights and allocates the cache once
            var (cold, warm) = (new List<double>(), new List<double>());
            for (var round = 0; round < rounds; round++)
            {
                var system = Tokens(prefix);
                cold.Add(await FirstTokenMs(batcher, [.. system, .. Tokens(suffix)]));
                warm.Add(await FirstTokenMs(batcher, [.. system, .. Tokens(suffix)]));
            }
            Console.WriteLine($"   {(reuse ? "prefix reuse" : "no reuse"),-13}: first token after a shared " +
                $"{prefix}-token prefix + {suffix}: first request {Median(cold):F0} ms, second {Median(warm):F0} ms " +
                $"(×{Median(cold) / Median(warm):F1}; medians of {rounds}; reused {batcher.PrefixTokensReused} " +
                "positions in all)");
        }

        // Inter-token latency of `streams` streams while a prompt of `prefix` tokens arrives after their 20th token.
        foreach (var chunk in new[] { 256, 64, int.MaxValue })
        {
            using var batcher = Batcher(model, threads, 0, chunk);
            await FirstTokenMs(batcher, Tokens(8));
            var gaps = new List<double>();
            var longFirst = 0.0;
            for (var round = 0; round < rounds; round++)
            {
                var clock = Stopwatch.StartNew();
                var running = Enumerable.Range(0, streams).Select(_ =>
                    batcher.TrySubmit(Tokens(64), [new SamplingOptions(60, 0)])![0]).ToArray();
                var arrival = new TaskCompletionSource<double>();
                var readers = running.Select(async (s, i) =>
                {
                    var (count, last) = (0, 0.0);
                    var mine = new List<double>();
                    await foreach (var _ in s.Tokens.ReadAllAsync())
                    {
                        var now = clock.Elapsed.TotalMilliseconds;
                        if (count > 0)
                            mine.Add(now - last);
                        last = now;
                        if (++count == 20 && i == 0)
                            arrival.SetResult(now);
                    }
                    return mine;
                }).ToArray();
                var submitted = await arrival.Task;
                var first = batcher.TrySubmit(Tokens(prefix), [new SamplingOptions(1, 0)])![0];
                await foreach (var _ in first.Tokens.ReadAllAsync())
                    longFirst += (clock.Elapsed.TotalMilliseconds - submitted) / rounds;
                foreach (var mine in await Task.WhenAll(readers))
                    gaps.AddRange(mine);
            }
            gaps.Sort();
            Console.WriteLine($"   prefill chunk {(chunk == int.MaxValue ? "whole" : chunk.ToString()),5}: " +
                $"{streams} streams' inter-token latency p50 {Percentile(gaps, 0.5):F0} ms, p99 " +
                $"{Percentile(gaps, 0.99):F0} ms, max {gaps[^1]:F0} ms; the {prefix}-token prompt's first token " +
                $"after {longFirst:F0} ms (mean of {rounds})");
        }
    }

    private static ContinuousBatcher Batcher(Gpt model, int threads, long prefixBytes, int chunk) =>
        new(model, null, null, new ContinuousBatchingOptions
        {
            CacheBytes = 2L << 30,
            MaxSequences = 8,
            ProductThreads = threads,
            PrefixCacheBytes = prefixBytes,
            PrefillChunkTokens = chunk,
        });

    private static async Task<double> FirstTokenMs(ContinuousBatcher batcher, int[] prompt)
    {
        var clock = Stopwatch.StartNew();
        var first = double.NaN;
        // The time the token arrives; the sequence ends at the next step.
        await foreach (var _ in batcher.TrySubmit(prompt, [new SamplingOptions(1, 0)])![0].Tokens.ReadAllAsync())
            first = clock.Elapsed.TotalMilliseconds;
        return first;
    }

    private static double Median(List<double> values) => Percentile([.. values.Order()], 0.5);

    private static double Percentile(List<double> sorted, double share) =>
        sorted[Math.Min(sorted.Count - 1, (int)(share * sorted.Count))];
}
