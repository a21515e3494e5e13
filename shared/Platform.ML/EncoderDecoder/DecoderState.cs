using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// What decoding an input keeps between steps: the source mask, every decoder layer's cross-attention keys and
/// values (computed once from the encoder output) and the self-attention cache. Rows are hypotheses; beam search
/// reorders them with <see cref="Reorder"/>. The tensors live outside dispose scopes until <see cref="Dispose"/>.
/// </summary>
public sealed class DecoderState : IDisposable
{
    public Tensor SourceMask { get; private set; }
    public Tensor[] CrossKeys { get; }
    public Tensor[] CrossValues { get; }
    public KvCache Cache { get; }

    internal DecoderState(int layers, Tensor sourceMask, Tensor[] crossKeys, Tensor[] crossValues)
    {
        SourceMask = sourceMask.DetachFromDisposeScope();
        CrossKeys = crossKeys.Select(t => t.DetachFromDisposeScope()).ToArray();
        CrossValues = crossValues.Select(t => t.DetachFromDisposeScope()).ToArray();
        Cache = new KvCache(layers);
    }

    public long Rows => SourceMask.shape[0];

    /// <summary>Row i becomes the old row rows[i] (beam search keeps, drops and copies hypotheses).</summary>
    public void Reorder(long[] rows)
    {
        using var index = tensor(rows, dtype: ScalarType.Int64, device: SourceMask.device);
        SourceMask = Replace(SourceMask, index);
        for (var i = 0; i < CrossKeys.Length; i++)
        {
            CrossKeys[i] = Replace(CrossKeys[i], index);
            CrossValues[i] = Replace(CrossValues[i], index);
        }
        Cache.Reorder(index);
    }

    private static Tensor Replace(Tensor old, Tensor index)
    {
        var selected = old.index_select(0, index).DetachFromDisposeScope();
        old.Dispose();
        return selected;
    }

    public void Dispose()
    {
        SourceMask.Dispose();
        foreach (var t in CrossKeys.Concat(CrossValues))
            t.Dispose();
        Cache.Dispose();
    }
}
