using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Greedy or sampled decoding of one input (temperature, top-k, top-p, seed and penalties as for GPTs), stopping at
/// &lt;/s&gt; or after maxNewTokens. Padding and &lt;s&gt; are never produced.
/// </summary>
public static class Seq2SeqGeneration
{
    public static IEnumerable<SampledToken> Stream(IDecodingSession session, SpecialIds specials, SamplingOptions options,
        CancellationToken cancellationToken = default)
    {
        var device = TorchSharp.torch.CPU;
        var generator = new Generator((ulong)options.Seed, device);
        var tokens = new List<int> { specials.Bos };
        Dictionary<int, int>? counts = null;
        for (var i = 0; i < options.MaxNewTokens; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            SampledToken next;
            using (no_grad())
            using (NewDisposeScope())
            {
                var logits = session.NextLogits([tokens])[0].to(ScalarType.Float32).cpu();
                var vocab = (int)logits.shape[0];
                var generated = new int[vocab];
                if (counts is not null)
                    foreach (var (id, count) in counts)
                        generated[id] = count;
                var never = zeros(vocab, dtype: ScalarType.Bool);
                never[specials.Pad] = true;
                never[specials.Bos] = true;
                next = Sampler.Pick(logits.masked_fill(never, double.NegativeInfinity), options, generator, generated);
            }
            if (next.Id == specials.Eos)
                yield break;
            tokens.Add(next.Id);
            (counts ??= [])[next.Id] = counts.GetValueOrDefault(next.Id) + 1;
            yield return next;
        }
    }
}
