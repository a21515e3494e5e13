using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>
/// Encoder-decoder attention: queries from the decoder, keys and values from the encoder's output E, padded source
/// positions hidden by the source mask. When decoding, E's keys and values are computed once per input
/// (<see cref="KeysValues"/>) and reused at every step.
/// </summary>
public sealed class CrossAttention : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Linear c_q;
    private readonly Linear c_kv;
    private readonly Linear c_proj;
    private readonly SeededDropout resid_dropout;
    private readonly int _nHead;
    private readonly int _nEmbd;
    private readonly double _dropout;

    internal ScalarType? ComputeType { get; }

    public CrossAttention(int nEmbd, int nHead, double dropout, bool bias, ScalarType? computeType = null)
        : base(nameof(CrossAttention))
    {
        ComputeType = computeType;
        (_nHead, _nEmbd, _dropout) = (nHead, nEmbd, dropout);
        c_q = Linear(nEmbd, nEmbd, hasBias: bias);
        c_kv = Linear(nEmbd, 2 * nEmbd, hasBias: bias);
        c_proj = Linear(nEmbd, nEmbd, hasBias: bias);
        resid_dropout = new SeededDropout(dropout);
        RegisterComponents();
    }

    /// <param name="x">Decoder states (batch, target time, C).</param>
    /// <param name="memory">Encoder output (batch, source time, C).</param>
    /// <param name="sourceMask">(batch, 1, 1, source time), true where the source position is real.</param>
    public override Tensor forward(Tensor x, Tensor memory, Tensor sourceMask)
    {
        var (k, v) = KeysValues(memory);
        return Attend(x, k, v, sourceMask);
    }

    /// <summary>Keys and values of the encoder output, each (batch, heads, source time, head size).</summary>
    public (Tensor Keys, Tensor Values) KeysValues(Tensor memory)
    {
        var kv = MixedPrecision.Linear(c_kv, memory, ComputeType).split(_nEmbd, dim: 2);
        return (Attention.Heads(kv[0], _nHead), Attention.Heads(kv[1], _nHead));
    }

    /// <param name="query">c_q packed for decoding (null: LibTorch's product).</param>
    /// <param name="output">c_proj packed for decoding (null: LibTorch's product).</param>
    public Tensor Attend(Tensor x, Tensor keys, Tensor values, Tensor sourceMask, IPackedLinear? query = null,
        IPackedLinear? output = null)
    {
        long batch = x.shape[0], time = x.shape[1];
        var q = Attention.Heads(query?.Apply(x) ?? MixedPrecision.Linear(c_q, x, ComputeType), _nHead);
        if (training && _dropout > 0)
            SeededDropout.SeedDevice(x);
        var y = functional.scaled_dot_product_attention(q, keys, values, sourceMask, p: training ? _dropout : 0.0);
        var merged = Attention.Merge(y, batch, time, _nEmbd);
        return resid_dropout.forward(output?.Apply(merged) ?? MixedPrecision.Linear(c_proj, merged, ComputeType));
    }

    // What explanations (Decoding/) compute with: the same projections as forward.
    internal int NHead => _nHead;
    internal int NEmbd => _nEmbd;
    internal Tensor ProjectQuery(Tensor x) => MixedPrecision.Linear(c_q, x, ComputeType);
    internal Tensor ProjectOutput(Tensor y) => MixedPrecision.Linear(c_proj, y, ComputeType);
}
