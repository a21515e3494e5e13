using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Next-token logits for a set of hypotheses decoded from one input, one step at a time. Rows are hypotheses,
/// each starting with &lt;s&gt;; <see cref="Reorder"/> keeps, drops and copies rows between steps.
/// </summary>
public interface IDecodingSession : IDisposable
{
    /// <summary>Columns of <see cref="NextLogits"/>: the real target vocabulary.</summary>
    int VocabSize { get; }

    /// <summary>Logits (rows, vocabulary) of the next token after each row's tokens; the caller's dispose scope owns
    /// them.</summary>
    Tensor NextLogits(IReadOnlyList<IReadOnlyList<int>> rows);

    /// <summary>Row i becomes the old row rows[i].</summary>
    void Reorder(long[] rows);
}

/// <summary>
/// Decoding an encoder-decoder model. Cached: the source is encoded once, cross-attention keys and values are
/// computed once, and each step feeds only each row's newest token through the self-attention cache. Recomputed:
/// every step runs the whole model on the source and each row's full prefix (the reference the cache is tested
/// against).
/// </summary>
public sealed class EncoderDecoderSession : IDecodingSession
{
    private readonly EncoderDecoder _model;
    private readonly Device _device;
    private readonly DecoderState? _state;
    private readonly Tensor _source;
    private readonly PackedEncoderDecoder? _packed;

    /// <param name="packed">The model's decoder packed for decoding (null: LibTorch's products); cached decoding
    /// only.</param>
    public EncoderDecoderSession(EncoderDecoder model, IReadOnlyList<int> source, bool useCache = true,
        PackedEncoderDecoder? packed = null)
    {
        if (source.Count == 0)
            throw new ArgumentException("The source must hold at least one token.", nameof(source));
        _model = model;
        _packed = packed;
        _device = model.parameters().First().device;
        model.eval();
        using var _ = no_grad();
        _source = tensor(source.Select(t => (long)t).ToArray(), dtype: ScalarType.Int64,
            device: _device).unsqueeze(0).DetachFromDisposeScope();
        if (useCache)
            _state = model.StartDecoding(_source);
    }

    public int VocabSize => _model.Config.TargetVocabSize;

    public Tensor NextLogits(IReadOnlyList<IReadOnlyList<int>> rows)
    {
        using var _ = no_grad();
        if (_state is { } state)
        {
            if (state.Rows != rows.Count)
                throw new ArgumentException($"The state holds {state.Rows} rows, not {rows.Count}: reorder it first.",
                    nameof(rows));
            var fresh = state.Cache.Length == 0
                ? rows.Select(r => r.Select(t => (long)t)).ToArray()
                : rows.Select(r => new[] { (long)r[^1] }.AsEnumerable()).ToArray();
            var width = fresh[0].Count();
            var ids = tensor(fresh.SelectMany(r => r).ToArray(), [rows.Count, width], dtype: ScalarType.Int64,
                device: _device);
            return _model.ForwardLast(ids, state, _packed);
        }
        var time = rows[0].Count;
        var input = tensor(rows.SelectMany(r => r.Select(t => (long)t)).ToArray(), [rows.Count, time],
            dtype: ScalarType.Int64, device: _device);
        return _model.forward(_source.expand(rows.Count, -1), input)[.., -1];
    }

    public void Reorder(long[] rows) => _state?.Reorder(rows);

    public void Dispose()
    {
        _state?.Dispose();
        _source.Dispose();
    }
}
