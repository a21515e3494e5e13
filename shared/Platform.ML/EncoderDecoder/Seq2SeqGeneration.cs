using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Greedy or sampled decoding of one input (temperature, top-k, top-p, seed and penalties as for GPTs), stopping at
/// &lt;/s&gt; or after maxNewTokens. Padding and &lt;s&gt; are never produced.
/// </summary>
public static class Seq2SeqGeneration
{
    public static IEnumerable<SampledToken> Stream(IDecodingSession session, PairSpecialIds specials,
        SamplingOptions options,
        CancellationToken cancellationToken = default)
    {
        var generator = new Generator((ulong)options.Seed, CPU);
        var tokens = new List<int> { specials.Bos };
        var generated = new int[session.VocabSize];
        var mask = new bool[session.VocabSize];
        mask[specials.Pad] = mask[specials.Bos] = true;
        using var never = tensor(mask).DetachFromDisposeScope();
        for (var i = 0; i < options.MaxNewTokens; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            SampledToken next;
            using (no_grad())
            using (NewDisposeScope())
            {
                var logits = session.NextLogits([tokens])[0].to(ScalarType.Float32).cpu();
                next = Sampler.Pick(logits.masked_fill(never, double.NegativeInfinity), options, generator, generated);
            }
            if (next.Id == specials.Eos)
                yield break;
            tokens.Add(next.Id);
            generated[next.Id]++;
            yield return next;
        }
    }
}
