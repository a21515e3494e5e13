using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>
/// Multi-head self-attention for the encoder-decoder: the encoder's sees every real position of its input (a key
/// padding mask hides the padding); the decoder's is causal and needs no mask, since targets are padded on the right.
/// </summary>
public sealed class SelfAttention : Module<Tensor, Tensor?, Tensor>
{
    private readonly Linear c_attn;
    private readonly Linear c_proj;
    private readonly SeededDropout resid_dropout;
    private readonly int _nHead;
    private readonly int _nEmbd;
    private readonly double _dropout;
    private readonly bool _causal;

    internal ScalarType? ComputeType { get; }

    public SelfAttention(int nEmbd, int nHead, double dropout, bool bias, bool causal,
        ScalarType? computeType = null) : base(nameof(SelfAttention))
    {
        ComputeType = computeType;
        (_nHead, _nEmbd, _dropout, _causal) = (nHead, nEmbd, dropout, causal);
        c_attn = Linear(nEmbd, 3 * nEmbd, hasBias: bias);
        c_proj = Linear(nEmbd, nEmbd, hasBias: bias);
        resid_dropout = new SeededDropout(dropout);
        RegisterComponents();
    }

    /// <param name="keyMask">(batch, 1, 1, time), true where a key is real; null for the causal decoder.</param>
    public override Tensor forward(Tensor x, Tensor? keyMask)
    {
        long batch = x.shape[0], time = x.shape[1];
        var qkv = MixedPrecision.Linear(c_attn, x, ComputeType).split(_nEmbd, dim: 2);
        if (training && _dropout > 0)
            SeededDropout.SeedDevice(x);
        var y = functional.scaled_dot_product_attention(Attention.Heads(qkv[0], _nHead),
            Attention.Heads(qkv[1], _nHead),
            Attention.Heads(qkv[2], _nHead), keyMask, p: training ? _dropout : 0.0, is_casual: _causal);
        return resid_dropout.forward(MixedPrecision.Linear(c_proj, Attention.Merge(y, batch, time, _nEmbd),
            ComputeType));
    }

    // What decoding and explanations (Decoding/) compute with: the same projections as forward.
    internal int NHead => _nHead;
    internal int NEmbd => _nEmbd;
    internal bool Causal => _causal;
    internal Tensor ProjectQkv(Tensor x) => MixedPrecision.Linear(c_attn, x, ComputeType);
    internal Tensor ProjectOutput(Tensor y) => MixedPrecision.Linear(c_proj, y, ComputeType);
}

internal static class Attention
{
    /// <summary>(batch, time, C) → (batch, heads, time, C / heads).</summary>
    public static Tensor Heads(Tensor t, int heads) =>
        t.view(t.shape[0], t.shape[1], heads, t.shape[2] / heads).transpose(1, 2);

    /// <summary>
    /// softmax(q·kᵀ/√d) in fp32, with keys outside <paramref name="keyMask"/> (true where real) and, when causal, later
    /// positions given no weight: what the fused kernel computes, written out so it can be shown.
    /// </summary>
    public static Tensor Weights(Tensor q, Tensor k, Tensor? keyMask, bool causal)
    {
        var scores = q.matmul(k.transpose(-2, -1)).to(ScalarType.Float32) / Math.Sqrt(q.shape[^1]);
        if (keyMask is not null)
            scores = scores.masked_fill(keyMask.logical_not(), double.NegativeInfinity);
        if (causal)
            scores = scores.masked_fill(ones(q.shape[2], k.shape[2], dtype: ScalarType.Bool, device: q.device).triu(1),
                double.NegativeInfinity);
        return functional.softmax(scores, -1);
    }

    /// <summary>(batch, heads, time, head size) → (batch, time, C).</summary>
    public static Tensor Merge(Tensor y, long batch, long time, int nEmbd) =>
        y.transpose(1, 2).contiguous().view(batch, time, nEmbd);
}
