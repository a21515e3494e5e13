using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Autoregressive sampling with a key/value cache: the prompt is prefilled once, then each new token costs one
/// position. Window policy: the model sees at most blockSize positions; when the window is full, the newest half
/// of the context is kept and prefilled again (learned absolute positions rule out sliding cached keys). The
/// uncached path (full recomputation of the window every token) follows the same policy, so both give the same
/// tokens. Draws come from a generator seeded per request: the same seed and settings give the same text. With a
/// <see cref="Utf8Constraint"/> (byte-level BPE), tokens that would break UTF-8 are never drawn.
/// </summary>
public static class Sampler
{
    public static int[] Generate(Gpt model, IReadOnlyList<int> prompt, SamplingOptions options,
        CancellationToken cancellationToken = default,
        bool useKvCache = true, Utf8Constraint? utf8 = null, LoraAdapter? adapter = null) =>
        Stream(model, prompt, options, cancellationToken, useKvCache, utf8, adapter).Select(t => t.Id).ToArray();

    /// <summary>New token ids one at a time, as they are decoded.</summary>
    /// <param name="adapter">LoRA adapters to decode with (a LoRA version served on its shared base); null: the model's
    /// own.</param>
    public static IEnumerable<SampledToken> Stream(Gpt model, IReadOnlyList<int> prompt, SamplingOptions options,
        CancellationToken cancellationToken = default,
        bool useKvCache = true, Utf8Constraint? utf8 = null, LoraAdapter? adapter = null)
    {
        if (prompt.Count == 0)
            throw new ArgumentException("The prompt must hold at least one token.", nameof(prompt));
        var config = model.Config;
        var device = model.parameters().First().device;
        var generator = new Generator((ulong)options.Seed, device);
        var tokens = new List<int>(prompt);
        // The window's first token; it moves forward by half a block whenever the window fills.
        var windowStart = Math.Max(0, tokens.Count - config.BlockSize);
        using var cache = new KvCache(config.NLayer);
        var generated = new int[config.VocabSize];
        if (!options.ValidUtf8)
            utf8 = null;
        var utf8State = utf8?.Mask.After(prompt) ?? Utf8TokenMask.Complete;
        model.eval();
        for (var i = 0; i < options.MaxNewTokens; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (tokens.Count - windowStart > config.BlockSize)
            {
                windowStart = tokens.Count - config.BlockSize / 2;
                cache.Clear();
            }
            SampledToken next;
            using (no_grad())
            using (NewDisposeScope())
            {
                Tensor logits;
                if (useKvCache)
                {
                    // After a (re)start the cache is empty: prefill the window; otherwise feed the last token only.
                    var fresh = cache.Length == 0 ? tokens.Skip(windowStart) : tokens.Skip(tokens.Count - 1);
                    logits = model.ForwardLast(Ids(fresh, device), cache, adapter)[0];
                }
                else
                {
                    logits = model.Forward(Ids(tokens.Skip(windowStart), device), adapter ?? model.Adapter)[0, -1];
                }
                var real = logits.to(ScalarType.Float32);
                if (utf8 is not null)
                    real = utf8.Apply(real, utf8State, last: i == options.MaxNewTokens - 1);
                next = Pick(real, options, generator, generated);
            }
            tokens.Add(next.Id);
            generated[next.Id]++;
            if (utf8 is not null)
                utf8State = utf8.Mask.Next(utf8State, next.Id);
            yield return next;
        }
    }

    private static Tensor Ids(IEnumerable<int> ids, Device device) =>
        tensor(ids.Select(t => (long)t).ToArray(), dtype: ScalarType.Int64, device: device).unsqueeze(0);

    /// <summary>
    /// One token for each row of a (rows, vocab) logits matrix, row i with rows[i]'s settings and generator: what
    /// <see cref="Pick"/> does to each row, computed for all rows at once (penalties, temperature, top-k and top-p as
    /// tensors of per-row values), with only the draw made row by row, from the row's own generator.
    /// </summary>
    public static SampledToken[] PickRows(Tensor logits, IReadOnlyList<RowSampling> rows)
    {
        var count = rows.Count;
        var vocab = (int)logits.shape[1];
        var device = logits.device;
        Tensor Column(Func<RowSampling, double> value) =>
            tensor(rows.Select(r => (float)value(r)).ToArray(), device: device).unsqueeze(1);

        if (rows.Any(r => r.Generated is not null
            && (r.Options.FrequencyPenalty != 0 || r.Options.PresencePenalty != 0)))
        {
            var counts = new float[count * vocab];
            for (var i = 0; i < count; i++)
                if (rows[i].Generated is { } generated)
                    for (var t = 0; t < vocab; t++)
                        counts[i * vocab + t] = generated[t];
            var c = tensor(counts, device: device).view(count, vocab);
            logits = logits - c * Column(r => r.Generated is null ? 0 : r.Options.FrequencyPenalty)
                     - c.gt(0).to(ScalarType.Float32)
                         * Column(r => r.Generated is null ? 0 : r.Options.PresencePenalty);
        }
        var result = new SampledToken[count];
        var greedy = Enumerable.Range(0, count).Where(i => rows[i].Options.Temperature <= 0).ToArray();
        if (greedy.Length > 0)
        {
            var best = logits.argmax(1);
            var distribution = nn.functional.log_softmax(logits, -1);
            var logProbabilities = distribution.gather(1, best.unsqueeze(1)).squeeze(1);
            var (ids, lps) = (best.data<long>().ToArray(), logProbabilities.data<float>().ToArray());
            var top = Likeliest(distribution, rows, greedy);
            foreach (var i in greedy)
                result[i] = new SampledToken((int)ids[i], lps[i], top?[i]);
        }
        if (greedy.Length == count)
            return result;

        logits = logits / Column(r => r.Options.Temperature <= 0 ? 1 : r.Options.Temperature);
        var topK = rows.Select(r => r.Options.TopK is > 0 and var k && k < vocab ? k : 0).ToArray();
        if (topK.Max() is > 0 and var largest)
        {
            var (values, _) = topk(logits, largest);
            var kth = values.gather(1,
                tensor(topK.Select(k => (long)Math.Max(0, k - 1)).ToArray(), device: device).unsqueeze(1));
            var threshold = kth.masked_fill(tensor(topK.Select(k => k == 0).ToArray(), device: device).unsqueeze(1),
                double.NegativeInfinity);
            logits = logits.masked_fill(logits < threshold, double.NegativeInfinity);
        }
        if (rows.Any(r => r.Options.TopP < 1.0))
        {
            var (sorted, order) = sort(logits, 1, descending: true);
            var probabilities = nn.functional.softmax(sorted, -1);
            // Drop a token when the mass before it already reaches TopP; a row without top-p (2) never drops one.
            var dropSorted = (probabilities.cumsum(1)
                - probabilities).ge(Column(r => r.Options.TopP < 1.0 ? r.Options.TopP : 2.0));
            logits = logits.masked_fill(zeros_like(dropSorted).scatter(1, order, dropSorted), double.NegativeInfinity);
        }
        var all = nn.functional.log_softmax(logits, dim: -1);
        var exp = all.exp();
        var drawn = new long[count];
        for (var i = 0; i < count; i++)
            if (rows[i].Options.Temperature > 0)
                drawn[i] = multinomial(exp[i], 1, generator: rows[i].Generator).item<long>();
        var chosen = all.gather(1, tensor(drawn, device: device).unsqueeze(1)).squeeze(1).data<float>().ToArray();
        var sampled = Enumerable.Range(0, count).Where(i => rows[i].Options.Temperature > 0).ToArray();
        var likeliest = Likeliest(all, rows, sampled);
        foreach (var i in sampled)
            result[i] = new SampledToken((int)drawn[i], chosen[i], likeliest?[i]);
        return result;
    }

    /// <summary>Each of <paramref name="among"/>'s rows' likeliest tokens under its log-probabilities, as many as
    /// the row asks for (none: null); null when no row asks.</summary>
    private static IReadOnlyList<TokenAlternative>?[]? Likeliest(Tensor logProbabilities,
        IReadOnlyList<RowSampling> rows, int[] among)
    {
        var largest = among.Select(i => rows[i].Options.TopLogprobs).DefaultIfEmpty(0).Max();
        if (largest <= 0)
            return null;
        var (values, ids) = topk(logProbabilities, (int)Math.Min(largest, logProbabilities.shape[1]));
        var (v, d, width) = (values.data<float>().ToArray(), ids.data<long>().ToArray(), (int)values.shape[1]);
        var result = new IReadOnlyList<TokenAlternative>?[rows.Count];
        foreach (var i in among)
            if (rows[i].Options.TopLogprobs > 0)
                result[i] = Enumerable.Range(0, Math.Min(rows[i].Options.TopLogprobs, width))
                    .Select(j => new TokenAlternative((int)d[i * width + j], v[i * width + j]))
                    // A token the draw could not reach (masked by top-k or top-p) is not an alternative.
                    .Where(a => !double.IsNegativeInfinity(a.LogProbability)).ToList();
        return result;
    }

    /// <summary>
    /// One token from a 1-D logits vector: penalties for what was generated, then argmax at temperature 0, else a
    /// draw after temperature, top-k and top-p (the smallest set of most likely tokens holding TopP of the mass).
    /// </summary>
    public static SampledToken Pick(Tensor logits, SamplingOptions options, Generator generator,
        int[]? generated = null)
    {
        if (generated is not null && (options.FrequencyPenalty != 0 || options.PresencePenalty != 0))
        {
            var counts = tensor(generated.Select(c => (float)c).ToArray(), device: logits.device);
            logits = logits - counts * options.FrequencyPenalty - counts.gt(0).to(ScalarType.Float32)
                * options.PresencePenalty;
        }
        if (options.Temperature <= 0)
        {
            var best = (int)logits.argmax().item<long>();
            var greedy = nn.functional.log_softmax(logits, -1);
            return new SampledToken(best, greedy[best].item<float>(), Likeliest(greedy, options));
        }
        logits = logits / options.Temperature;
        if (options.TopK is > 0 and var k && k < logits.shape[0])
        {
            var (values, _) = topk(logits, k);
            logits = logits.masked_fill(logits < values[-1], double.NegativeInfinity);
        }
        if (options.TopP < 1.0)
        {
            var (sorted, order) = sort(logits, descending: true);
            var cumulative = nn.functional.softmax(sorted, -1).cumsum(0);
            // Drop a token when the mass before it already reaches TopP; the most likely token always stays.
            var dropSorted = (cumulative - nn.functional.softmax(sorted, -1)).ge(options.TopP);
            var drop = zeros_like(dropSorted).scatter(0, order, dropSorted);
            logits = logits.masked_fill(drop, double.NegativeInfinity);
        }
        var logProbabilities = nn.functional.log_softmax(logits, dim: -1);
        var id = (int)multinomial(logProbabilities.exp(), 1, generator: generator).item<long>();
        return new SampledToken(id, logProbabilities[id].item<float>(), Likeliest(logProbabilities, options));
    }

    private static IReadOnlyList<TokenAlternative>? Likeliest(Tensor logProbabilities, SamplingOptions options) =>
        options.TopLogprobs > 0
            ? Likeliest(logProbabilities.unsqueeze(0), [new RowSampling(options, null!, null)], [0])![0]
            : null;
}

/// <summary>One row's sampling in <see cref="Sampler.PickRows"/>: its settings, its generator, and its counts of
/// generated tokens (for penalties).</summary>
public sealed record RowSampling(SamplingOptions Options, Generator Generator, int[]? Generated);
