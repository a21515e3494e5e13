using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Autoregressive sampling: feed the last blockSize ids, take the final position's logits, apply temperature
/// and top-k, draw from a generator seeded per request, so the same seed and settings give the same text.
/// </summary>
public static class Sampler
{
    public static int[] Generate(Gpt model, IReadOnlyList<int> prompt, SamplingOptions options, CancellationToken cancellationToken = default)
    {
        if (prompt.Count == 0)
            throw new ArgumentException("The prompt must hold at least one token.", nameof(prompt));
        var config = model.Config;
        var device = model.parameters().First().device;
        var generator = new Generator((ulong)options.Seed, device);
        var ids = new List<int>(prompt);
        model.eval();
        using var _ = no_grad();
        for (var i = 0; i < options.MaxNewTokens; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var context = ids.Skip(Math.Max(0, ids.Count - config.BlockSize)).Select(t => (long)t).ToArray();
            var logits = model.forward(tensor(context, dtype: ScalarType.Int64, device: device).unsqueeze(0));
            // Padded vocabulary rows are never real tokens.
            var last = logits[0, -1, ..config.VocabSize].to(ScalarType.Float32);
            ids.Add(Pick(last, options, generator));
        }
        return ids.Skip(prompt.Count).ToArray();
    }

    /// <summary>One id from a 1-D logits vector: argmax at temperature 0, else a draw after temperature and top-k.</summary>
    public static int Pick(Tensor logits, SamplingOptions options, Generator generator)
    {
        if (options.Temperature <= 0)
            return (int)logits.argmax().item<long>();
        logits = logits / options.Temperature;
        if (options.TopK is > 0 and var k && k < logits.shape[0])
        {
            var (values, _) = topk(logits, k);
            logits = logits.masked_fill(logits < values[-1], double.NegativeInfinity);
        }
        var probabilities = nn.functional.softmax(logits, dim: -1);
        return (int)multinomial(probabilities, 1, generator: generator).item<long>();
    }
}
