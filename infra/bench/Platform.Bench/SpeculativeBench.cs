using System.Diagnostics;
using Platform.ML;
using static TorchSharp.torch;

/// <summary>
/// Speculative decoding by prompt lookup at GPT-2 small's shape (seeded random weights, as in
/// <see cref="LlamaBench"/>), one stream, with drafts of 2, 4 and 8 tokens and without, side by side. Repetitive:
/// greedy decoding after a prompt that holds the model's own greedy text, which by then repeats tokens in runs (a
/// random model does not copy a given text, as a trained one editing it would: <see cref="TrainedCopierAsync"/> is
/// one). Free text: seeded sampling at temperature 1, whose n-grams seldom recur. Then the step's cost when every draft
/// is wrong: one slot's step with 1 row against 1 + 4.
/// </summary>
internal static class SpeculativeBench
{
    private const int Vocab = 50_257;

    public static async Task RunAsync(int threads, int newTokens, int rounds)
    {
        set_num_threads(1);
        using var model = LlamaBench.Gpt2SmallShape();
        var random = new Random(4);
        var phrase = Enumerable.Range(0, 48).Select(_ => random.Next(Vocab)).ToArray();
        int[] repetitive = [.. phrase, .. phrase, .. phrase[..16]];
        using (var plain = new ContinuousBatcher(model, null, null, new ContinuousBatchingOptions
        {
            MaxSequences = 1,
            ProductThreads = threads,
            SpeculativeTokens = 0,
        }))
        {
            var continued = new List<int>();
            await foreach (var token in plain.TrySubmit(repetitive, [new SamplingOptions(512, 0)])![0].Tokens
                .ReadAllAsync())
                continued.Add(token.Id);
            repetitive = [.. repetitive, .. continued];
        }
        var free = Enumerable.Range(0, 64).Select(_ => random.Next(Vocab)).ToArray();
        Console.WriteLine($"== GPT-2 small's shape, f32 packed, {threads} product thread(s), one stream, " +
            $"{newTokens} new tokens, {Environment.ProcessorCount} cores");
        foreach (var (name, prompt, sampling) in new[]
        {
            ("repetitive, greedy", repetitive, new SamplingOptions(newTokens, 0)),
            ("free text, sampled", free, new SamplingOptions(newTokens, 1.0, Seed: 5)),
        })
        {
            int[] lengths = [0, 2, 4, 8];
            var speeds = lengths.ToDictionary(k => k, _ => new List<double>());
            var accepted = lengths.ToDictionary(k => k, _ => 0L);
            for (var round = 0; round < rounds; round++)
                foreach (var drafted in lengths)
                {
                    using var batcher = await OneStreamAsync(model, threads, drafted, prompt);
                    speeds[drafted].Add(await Decode(batcher, prompt, sampling));
                    accepted[drafted] += batcher.DraftedTokensAccepted;
                }
            var plain = Median(speeds[0]);
            Console.WriteLine($"   {name}: plain {plain:F1} tokens/s; " + string.Join("; ", lengths.Skip(1).Select(k =>
                $"drafts of {k} {Median(speeds[k]):F1} (×{Median(speeds[k]) / plain:F2}, " +
                $"{accepted[k] / (double)(rounds * newTokens):P0} drafted and accepted)")) + $" (medians of {rounds})");
        }

        // Every draft wrong: a step computes 1 + 4 rows of the slot and keeps one token.
        using var packed = new PackedGpt(model, threads);
        using var cache = new SlotKvCache(model.Config, 1, ScalarType.Float32, CPU, keysTransposed: false);
        using var _ = no_grad();
        model.PrefillSlot(tensor(free.Select(t => (long)t).ToArray()).unsqueeze(0), cache, 0, packed: packed)
            .Dispose();
        double Step(int rows)
        {
            var times = new List<double>();
            for (var i = 0; i < 21; i++)
            {
                using var scope = NewDisposeScope();
                var clock = Stopwatch.StartNew();
                model.DecodeSlots(tensor(free[..rows].Select(t => (long)t).ToArray()),
                    tensor(Enumerable.Range(64, rows).Select(p => (long)p).ToArray()), cache, packed: packed,
                    slots: new int[rows]);
                if (i > 0)
                    times.Add(clock.Elapsed.TotalMilliseconds);
            }
            return Median(times);
        }
        var (one, five) = (Step(1), Step(5));
        Console.WriteLine($"   a step of 1 row {one:F1} ms, of 1 + 4 drafted rows {five:F1} ms (×{five / one:F2}): " +
            "the cost of a draft that is wrong from its first token");
    }

    /// <summary>
    /// A model that edits a given text by copying it: a small character GPT (2 layers × 4 heads × 128) trained on
    /// Shakespeare passages of 48 characters each followed by a separator and the same passage, the loss on the copy
    /// only. Then the copies of 16 held-out passages, greedy, with drafts of 0, 2, 4 and 8 tokens (medians of the
    /// rounds), and whether the text is the same. (Free text is <see cref="RunAsync"/>'s.)
    /// </summary>
    public static async Task TrainedCopierAsync(string text, int threads, int rounds, int steps)
    {
        const int Passage = 48, Block = 128;
        var alphabet = text.Distinct().Order().ToArray();
        var id = alphabet.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        var separator = alphabet.Length;
        int[] Encode(string s) => [.. s.Select(c => id[c])];
        (int[] Ids, bool[] Trained) Copies(int from, int to)
        {
            var (ids, trained) = (new List<int>(), new List<bool>());
            for (var start = from; start + Passage <= to; start += Passage)
            {
                var passage = Encode(text.Substring(start, Passage));
                ids.AddRange([.. passage, separator, .. passage, separator]);
                trained.AddRange([.. new bool[Passage + 1], .. Enumerable.Repeat(true, Passage + 1)]);
            }
            return ([.. ids], [.. trained]);
        }
        var (trainIds, trainMask) = Copies(0, text.Length * 9 / 10);
        var (heldIds, heldMask) = Copies(text.Length * 9 / 10, text.Length);
        using var train = new TokenBatches(trainIds, Block, CPU, trainMask);
        using var held = new TokenBatches(heldIds, Block, CPU, heldMask);
        set_num_threads(threads);
        manual_seed(7);
        using var model = new Gpt(new GptConfig(alphabet.Length + 1, Block, NLayer: 2, NHead: 4, NEmbd: 128));
        var clock = Stopwatch.StartNew();
        new Trainer(new TrainerOptions
        {
            MaxSteps = steps,
            BatchSize = 32,
            LearningRate = 3e-3,
            MinLearningRate = 3e-4,
            WarmupSteps = 50,
            EvalInterval = steps,
            EvalIters = 4,
            LogInterval = 100,
            Seed = 1,
        }).Train(model, train, held, new BenchObserver(steps), CancellationToken.None);
        model.eval();
        set_num_threads(1);
        Console.WriteLine($"\n== a trained copier: {steps} steps in {clock.Elapsed.TotalSeconds:F0} s, f32 packed, " +
            $"{threads} product thread(s), one stream");
        var passages = Enumerable.Range(0, 16).Select(i => Encode(text.Substring(text.Length * 9 / 10 + i * 1_000,
            Passage))).ToArray();
        var prompts = passages.Select(p => (int[])[.. p, separator]).ToArray();
        var copy = new SamplingOptions(Passage, 0);
        int[] lengths = [0, 2, 4, 8];
        var speeds = lengths.ToDictionary(k => k, _ => new List<double>());
        var outputs = lengths.ToDictionary(k => k, _ => new List<string>());
        var accepted = lengths.ToDictionary(k => k, _ => 0L);
        long generated = 0;
        for (var round = 0; round < rounds; round++)
            foreach (var drafted in lengths)
            {
                using var batcher = await OneStreamAsync(model, threads, drafted, prompts[0]);
                // A request's 48 tokens take milliseconds: the round's tokens over its decoding time.
                var (tokens, seconds) = (0, 0.0);
                foreach (var prompt in prompts)
                {
                    var (ids, elapsed) = await DecodeIds(batcher, prompt, copy);
                    (tokens, seconds) = (tokens + ids.Count - 1, seconds + elapsed);
                    outputs[drafted].Add(string.Join(",", ids));
                    generated += drafted == 0 ? ids.Count : 0;
                }
                speeds[drafted].Add(tokens / seconds);
                accepted[drafted] += batcher.DraftedTokensAccepted;
            }
        var copied = passages.Select((p, i) => outputs[0][i].Split(',').Zip(p).Count(t => t.First == $"{t.Second}"))
            .Sum() / (double)(passages.Length * Passage);
        var plain = Median(speeds[0]);
        Console.WriteLine($"   copying {passages.Length} held-out passages, greedy ({copied:P0} of their characters " +
            $"reproduced): plain {plain:F1} tokens/s; " + string.Join("; ", lengths.Skip(1).Select(k =>
            $"drafts of {k} {Median(speeds[k]):F1} (×{Median(speeds[k]) / plain:F2}, " +
            $"{accepted[k] / (double)generated:P0} of tokens drafted and accepted, " +
            $"{(outputs[k].SequenceEqual(outputs[0]) ? "same text" : "DIFFERENT TEXT")})")) +
            $" (medians of {rounds})");
    }

    /// <summary>A batcher of one sequence drafting <paramref name="drafted"/> tokens, its weights packed by a short
    /// first request (the start of <paramref name="prompt"/>).</summary>
    private static async Task<ContinuousBatcher> OneStreamAsync(Gpt model, int threads, int drafted, int[] prompt)
    {
        var batcher = new ContinuousBatcher(model, null, null, new ContinuousBatchingOptions
        {
            CacheBytes = 256L << 20,
            MaxSequences = 1,
            ProductThreads = threads,
            SpeculativeTokens = drafted,
        });
        await Decode(batcher, prompt[..8], new SamplingOptions(2, 0));
        return batcher;
    }

    /// <summary>The tokens of one request and the seconds from its first token to its last.</summary>
    private static async Task<(List<int> Ids, double Seconds)> DecodeIds(ContinuousBatcher batcher, int[] prompt,
        SamplingOptions sampling)
    {
        var clock = Stopwatch.StartNew();
        var (ids, first, last) = (new List<int>(), 0.0, 0.0);
        await foreach (var token in batcher.TrySubmit(prompt, [sampling])![0].Tokens.ReadAllAsync())
        {
            last = clock.Elapsed.TotalSeconds;
            if (ids.Count == 0)
                first = last;
            ids.Add(token.Id);
        }
        return (ids, last - first);
    }

    private static async Task<double> Decode(ContinuousBatcher batcher, int[] prompt, SamplingOptions sampling)
    {
        var clock = Stopwatch.StartNew();
        var (count, first, last) = (0, 0.0, 0.0);
        await foreach (var _ in batcher.TrySubmit(prompt, [sampling])![0].Tokens.ReadAllAsync())
        {
            last = clock.Elapsed.TotalMilliseconds;
            if (count++ == 0)
                first = last;
        }
        return (count - 1) / ((last - first) / 1000);
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
