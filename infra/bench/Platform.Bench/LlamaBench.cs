using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;
using Platform.ML;
using Platform.ML.Gguf;
using Platform.Tokenizers;
using static TorchSharp.torch;

/// <summary>
/// GPT-2 small's shape (12 layers × 12 heads × 768, a 50,257-token vocabulary, 1,024 positions) with seeded random
/// weights, decoded by the platform (the serving path: a ContinuousBatcher over packed fp32 weights) and by llama.cpp
/// (LLamaSharp, the same model exported as GGUF in f32 and Q8_0), with the same threads, side by side: one stream's
/// tokens/s, the total at several concurrent sequences, and the time to the first token of a long prompt. Speed does
/// not depend on the weights' values, and no weights can be downloaded here. Beside them, the machine's physical limit
/// for one stream: memory bandwidth (a STREAM-style copy) ÷ the bytes of weights each token reads.
/// </summary>
internal static class LlamaBench
{
    private const int Vocab = 50_257, Block = 1_024, Layers = 12, Heads = 12, Embedding = 768;

    public static async Task RunAsync(int threads, int promptTokens, int newTokens, int longPrompt, int[] concurrency)
    {
        // The platform's products run on its own threads (ContinuousBatchingOptions.ProductThreads); LibTorch's
        // intra-op threads would spin beside them on the same cores.
        set_num_threads(1);
        NativeLibraryConfig.All.WithLogCallback((level, message) =>
        {
            if (level >= LLamaLogLevel.Error)
                Console.Error.Write(message);
        });
        using var model = Gpt2SmallShape();
        var tokenizer = SyntheticVocabulary();
        var bandwidth = CopyBandwidth(threads);
        // Each token reads every matrix once: the blocks' 12·d² and the tied head's vocabulary × d.
        var weights = Layers * 12L * Embedding * Embedding + (long)Vocab * Embedding;
        Console.WriteLine($"== GPT-2 small's shape, {weights / 1e6:F0} M weights in matrices, {threads} thread(s), " +
            $"{promptTokens}-token prompts, {newTokens} new tokens, {Environment.ProcessorCount} cores");
        Console.WriteLine($"   memory bandwidth (copy, read + write): {bandwidth / 1e9:F1} GB/s; one stream's limit: " +
            $"f32 {bandwidth / (weights * 4.0):F1} tokens/s, Q8_0 {bandwidth / (weights * 34.0 / 32):F1}, the " +
            $"platform's int8 (an f32 scale per 32) {bandwidth / (weights * 36.0 / 32):F1}");

        var random = new Random(2);
        int[] Prompt(int length) => [.. Enumerable.Range(0, length).Select(_ => random.Next(Vocab))];
        var rows = new List<(string Engine, string Precision, Figures Figures)>();

        ProductsOfOneStep(model, threads, int8: false);
        ProductsOfOneStep(model, threads, int8: true);
        Int8Kernels(model, threads);
        var platform = await PlatformAsync(model, threads, false, Prompt, promptTokens, newTokens, longPrompt,
            concurrency);
        rows.Add(("platform", "f32", platform));
        rows.Add(("platform", "int8", await PlatformAsync(model, threads, true, Prompt, promptTokens, newTokens,
            longPrompt, concurrency)));
        foreach (var (name, type) in new[] { ("f32", GgmlType.F32), ("Q8_0", GgmlType.Q8_0) })
        {
            var path = Path.Combine(Path.GetTempPath(), $"bench-gpt2-{name}.gguf");
            using (var file = File.Create(path))
                GgufExport.Write(model, tokenizer, type, file, "gpt2-shape");
            try
            {
                rows.Add(("llama.cpp", name, Llama(path, threads, Prompt, promptTokens, newTokens, longPrompt,
                    concurrency)));
            }
            finally
            {
                File.Delete(path);
            }
        }

        Console.WriteLine($"\n   {"engine",-10} {"weights",-7} {"1 stream",10} " +
            string.Join(" ", concurrency.Select(c => $"{c + " seqs",10}")) + $" {"TTFT " + longPrompt,10}");
        foreach (var (engine, precision, f) in rows)
            Console.WriteLine($"   {engine,-10} {precision,-7} {f.OneStream,10:F1} " +
                string.Join(" ", f.Concurrent.Select(c => $"{c,10:F1}")) + $" {f.FirstTokenMs,8:F0} ms");
        Console.WriteLine("   (tokens/s; one stream counts the decoding after the first token, the concurrent " +
            "columns every token from submission to the last)");
        var (llamaF32, llamaQ8, platformInt8) = (rows[2].Figures, rows[3].Figures, rows[1].Figures);
        Console.WriteLine("   platform ÷ llama.cpp, f32: " + Ratios(platform, llamaF32, concurrency));
        Console.WriteLine("   platform int8 ÷ llama.cpp Q8_0: " + Ratios(platformInt8, llamaQ8, concurrency));
        var (f32Limit, q8Limit) = (bandwidth / (weights * 4.0), bandwidth / (weights * 34.0 / 32));
        Console.WriteLine($"   one stream against the limit: platform f32 {platform.OneStream / f32Limit:P0}, " +
            $"llama.cpp f32 {llamaF32.OneStream / f32Limit:P0}, platform int8 " +
            $"{platformInt8.OneStream / (bandwidth / (weights * 36.0 / 32)):P0}, llama.cpp Q8_0 " +
            $"{llamaQ8.OneStream / q8Limit:P0}");
    }

    /// <summary>GPT-2 small's shape with weights seeded 1, for inference: what every GPT-2-size benchmark
    /// times.</summary>
    public static Gpt Gpt2SmallShape()
    {
        manual_seed(1);
        var model = new Gpt(new GptConfig(Vocab, Block, Layers, Heads, Embedding, Activation: GptConfig.GeluTanh));
        model.eval();
        return model;
    }

    private static string Ratios(Figures platform, Figures llama, int[] concurrency) =>
        $"one stream {platform.OneStream / llama.OneStream:F2}×, " + string.Join(", ", concurrency.Select((c, i) =>
            $"{c} seqs {platform.Concurrent[i] / llama.Concurrent[i]:F2}×")) +
        $", time to first token {platform.FirstTokenMs / llama.FirstTokenMs:F2}× llama.cpp's";

    /// <summary>How long one decoding step's matrix products take on the packed weights alone, one row, median of
    /// 20: what a step costs before attention, norms and sampling.</summary>
    private static void ProductsOfOneStep(Gpt model, int threads, bool int8)
    {
        using var packed = new PackedGpt(model, threads, int8);
        using var scope = NewDisposeScope();
        var d = model.Config.NEmbd;
        var (x, h) = (randn(1, d), randn(1, 4 * d));
        var times = new List<double>();
        for (var round = 0; round < 21; round++)
        {
            var clock = Stopwatch.StartNew();
            for (var layer = 0; layer < model.Config.NLayer; layer++)
            {
                packed[layer, "attn.c_attn"].Apply(x).Dispose();
                packed[layer, "attn.c_proj"].Apply(x).Dispose();
                packed[layer, "mlp.c_fc"].Apply(x).Dispose();
                packed[layer, "mlp.c_proj"].Apply(h).Dispose();
            }
            packed.Head.Apply(x).Dispose();
            if (round > 0)
                times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine($"   platform {(int8 ? "int8" : "f32")}: one step's matrix products, one row: " +
            $"{times[times.Count / 2]:F1} ms (median of {times.Count})");
    }

    /// <summary>The int8 products of one step (every block's matrices and the head) by VNNI's kernel and by AVX2's,
    /// at 1 and 16 rows, median of 10: what the byte dot products buy.</summary>
    private static void Int8Kernels(Gpt model, int threads)
    {
        if (!PackedInt8Linear.HasVnni)
        {
            Console.WriteLine("   int8 kernels: this CPU has no AVX-VNNI; the AVX2 kernel computes int8 products");
            return;
        }
        using var workers = threads > 1 ? new ProductWorkers(threads) : null;
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var matrices = parameters.Where(p => p.Key.StartsWith("h.", StringComparison.Ordinal) && p.Value.dim() == 2)
            .Select(p => ((Tensor)p.Value, (Tensor?)parameters.GetValueOrDefault(p.Key[..^"weight".Length] + "bias")))
            .Append((model.TokenEmbedding.narrow(0, 0, model.Config.VocabSize), null)).ToArray();
        var line = new List<string>();
        foreach (var vnni in new[] { true, false })
        {
            var layers = matrices.Select(m => new PackedInt8Linear(m.Item1, m.Item2, workers, vnni)).ToArray();
            try
            {
                foreach (var rows in new[] { 1, 16 })
                {
                    using var scope = NewDisposeScope();
                    var inputs = layers.Select(l => randn(rows, l.In)).ToArray();
                    var times = new List<double>();
                    for (var round = 0; round < 11; round++)
                    {
                        var clock = Stopwatch.StartNew();
                        for (var i = 0; i < layers.Length; i++)
                            layers[i].Apply(inputs[i]).Dispose();
                        if (round > 0)
                            times.Add(clock.Elapsed.TotalMilliseconds);
                    }
                    times.Sort();
                    var name = $"{(vnni ? "VNNI" : "AVX2")} {rows} row{(rows > 1 ? "s" : "")}";
                    line.Add($"{name} {times[times.Count / 2]:F1} ms");
                }
            }
            finally
            {
                foreach (var layer in layers)
                    layer.Dispose();
            }
        }
        Console.WriteLine($"   int8 products of one step (median of 10): {string.Join(", ", line)}");
    }

    private sealed record Figures(double OneStream, double[] Concurrent, double FirstTokenMs);

    private static async Task<Figures> PlatformAsync(Gpt model, int threads, bool int8, Func<int, int[]> prompt,
        int promptTokens, int newTokens, int longPrompt, int[] concurrency)
    {
        using var batcher = new ContinuousBatcher(model, null, null, new ContinuousBatchingOptions
        {
            CacheBytes = 8L << 30,
            MaxSequences = Math.Max(16, concurrency.Max()),
            MaxWaiting = Math.Max(16, concurrency.Max()),
            ProductThreads = threads,
            Int8Weights = int8,
        });
        var label = int8 ? "platform int8" : "platform f32";
        async Task<(int Count, double FirstMs, double LastMs)[]> Decode(int sequences, int length, int tokens)
        {
            var clock = Stopwatch.StartNew();
            var submitted = Enumerable.Range(0, sequences).Select(_ =>
                batcher.TrySubmit(prompt(length), [new SamplingOptions(tokens, 0)])![0]).ToList();
            return await Task.WhenAll(submitted.Select(async s =>
            {
                var (count, first, last) = (0, 0.0, 0.0);
                await foreach (var _ in s.Tokens.ReadAllAsync())
                {
                    last = clock.Elapsed.TotalMilliseconds;
                    if (count++ == 0)
                        first = last;
                }
                return (count, first, last);
            }));
        }
        await Decode(1, 8, 2); // packs the weights and allocates the cache, as a server does once
        var one = (await Decode(1, promptTokens, newTokens))[0];
        var oneStream = (one.Count - 1) / ((one.LastMs - one.FirstMs) / 1000);
        Console.WriteLine($"   {label}: one stream {oneStream:F1} tokens/s");
        var concurrent = new List<double>();
        foreach (var sequences in concurrency)
        {
            var clock = Stopwatch.StartNew();
            var all = await Decode(sequences, promptTokens, newTokens);
            concurrent.Add(all.Sum(a => a.Count) / clock.Elapsed.TotalSeconds);
            Console.WriteLine($"   {label}: {sequences} sequences {concurrent[^1]:F1} tokens/s");
        }
        var cold = (await Decode(1, longPrompt, 1))[0].FirstMs;
        var warm = new List<double>();
        for (var round = 0; round < 3; round++)
            warm.Add((await Decode(1, longPrompt, 1))[0].FirstMs);
        return FirstToken(label, longPrompt, oneStream, concurrent, cold, warm);
    }

    private static Figures Llama(string path, int threads, Func<int, int[]> prompt, int promptTokens, int newTokens,
        int longPrompt, int[] concurrency)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var sequences = concurrency.Max();
        // llama.cpp's defaults otherwise (an f16 key/value cache): how its users run it.
        var parameters = new ModelParams(path)
        {
            ContextSize = (uint)Math.Max(sequences * (promptTokens + newTokens), longPrompt) + 64,
            BatchSize = (uint)Math.Max(longPrompt, sequences * promptTokens),
            UBatchSize = 512,
            SeqMax = (uint)sequences,
            Threads = threads,
            BatchThreads = threads,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var handle = context.NativeHandle;

        // N sequences decoded together, as LLamaSharp's BatchedExecutor does: each step is one llama_decode of a
        // batch holding every sequence's next token; the prompts go in first as one batch.
        (double FirstMs, double TotalMs) Decode(int count, int length, int tokens)
        {
            handle.MemoryClear(true);
            var clock = Stopwatch.StartNew();
            var batch = new LLamaBatch();
            var logitRows = new int[count];
            for (var s = 0; s < count; s++)
            {
                var ids = prompt(length);
                for (var i = 0; i < ids.Length; i++)
                    batch.Add(ids[i], i, (LLamaSeqId)s, i == ids.Length - 1);
                logitRows[s] = batch.TokenCount - 1;
            }
            Check(handle.Decode(batch));
            var next = logitRows.Select(r => ArgMax(handle.GetLogitsIth(r))).ToArray();
            var firstMs = clock.Elapsed.TotalMilliseconds;
            for (var step = 1; step < tokens; step++)
            {
                batch.Clear();
                for (var s = 0; s < count; s++)
                    batch.Add(next[s], length + step - 1, (LLamaSeqId)s, true);
                Check(handle.Decode(batch));
                for (var s = 0; s < count; s++)
                    next[s] = ArgMax(handle.GetLogitsIth(s));
            }
            return (firstMs, clock.Elapsed.TotalMilliseconds);
        }
        Decode(1, 8, 2); // warm-up
        var one = Decode(1, promptTokens, newTokens);
        var oneStream = (newTokens - 1) / ((one.TotalMs - one.FirstMs) / 1000);
        Console.WriteLine($"   llama.cpp {name}: one stream {oneStream:F1} tokens/s");
        var concurrent = new List<double>();
        foreach (var count in concurrency)
        {
            concurrent.Add(count * newTokens / (Decode(count, promptTokens, newTokens).TotalMs / 1000));
            Console.WriteLine($"   llama.cpp {name}: {count} sequences {concurrent[^1]:F1} tokens/s");
        }
        var cold = Decode(1, longPrompt, 1).FirstMs;
        var warm = Enumerable.Range(0, 3).Select(_ => Decode(1, longPrompt, 1).FirstMs).ToList();
        return FirstToken($"llama.cpp {name}", longPrompt, oneStream, concurrent, cold, warm);
    }

    /// <summary>The time to the first token of a long prompt: the first in the process, which pays for memory the
    /// process touches for the first time (several times the rest on a VM whose host backs memory lazily), then the
    /// median of three more, which the table shows.</summary>
    private static Figures FirstToken(string label, int length, double oneStream, List<double> concurrent, double cold,
        List<double> warm)
    {
        warm.Sort();
        Console.WriteLine($"   {label}: first token of a {length}-token prompt after {cold:F0} ms the first time, " +
            $"then {warm[1]:F0} ms (median of 3)");
        return new Figures(oneStream, [.. concurrent], warm[1]);
    }

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok)
            throw new InvalidOperationException($"llama_decode: {result}");
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
            if (values[i] > values[best])
                best = i;
        return best;
    }

    /// <summary>A byte-level BPE of GPT-2's size: the 256 bytes, 50,000 merges of byte pairs and
    /// &lt;|endoftext|&gt;. Its ids are all the benchmark uses; its tokens only have to be a valid
    /// vocabulary.</summary>
    private static BpeTokenizer SyntheticVocabulary()
    {
        var bytes = Enumerable.Range(0, 256).Select(b => ByteLevel.ByteToChar[b].ToString()).ToList();
        var merges = bytes.SelectMany(l => bytes.Select(r => (Left: l, Right: r))).Take(Vocab - 257).ToList();
        var tokens = bytes.Concat(merges.Select(m => m.Left + m.Right)).Append("<|endoftext|>").ToList();
        return new BpeTokenizer(tokens, merges, new Dictionary<string, int> { ["<|endoftext|>"] = tokens.Count - 1 });
    }

    /// <summary>Bytes read and written per second copying 1 GiB between two buffers on every thread, best of five: a
    /// STREAM "copy".</summary>
    private static double CopyBandwidth(int threads)
    {
        const int length = 1 << 28; // floats: 1 GiB each way
        var from = new float[length];
        var to = new float[length];
        Array.Fill(from, 1f);
        Array.Fill(to, 0f);
        var best = double.MaxValue;
        for (var round = 0; round < 5; round++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                var chunk = length / threads;
                from.AsSpan(t * chunk, chunk).CopyTo(to.AsSpan(t * chunk, chunk));
            });
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * length * sizeof(float) / best;
    }
}
