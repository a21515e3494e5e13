using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>Multi-head self-attention where position t only sees positions ≤ t.</summary>
public sealed class CausalSelfAttention : Module<Tensor, Tensor>
{
    // Field names are the state-dict names (nanoGPT's), so checkpoints map one to one onto PyTorch's.
    private readonly Linear c_attn;
    private readonly Linear c_proj;
    private readonly SeededDropout resid_dropout;
    private readonly int _nHead;
    private readonly int _nEmbd;
    private readonly double _dropout;
    private readonly int _layer;

    /// <summary>Type the projections and attention compute in (null: the parameters' own); see <see
    /// cref="MixedPrecision"/>.</summary>
    internal ScalarType? ComputeType { get; }

    /// <param name="layer">The block this attention belongs to (it finds its LoRA adapters by it).</param>
    public CausalSelfAttention(GptConfig config, int layer = 0) : base(nameof(CausalSelfAttention))
    {
        _layer = layer;
        ComputeType = config.ComputeType;
        _nHead = config.NHead;
        _nEmbd = config.NEmbd;
        _dropout = config.Dropout;
        c_attn = Linear(config.NEmbd, 3 * config.NEmbd, hasBias: config.Bias);
        c_proj = Linear(config.NEmbd, config.NEmbd, hasBias: config.Bias);
        resid_dropout = new SeededDropout(config.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => Forward(x, null);

    /// <param name="adapter">LoRA adapters to add to the projections (null: the base alone).</param>
    /// <param name="packed">The model's weights packed for decoding (null: LibTorch's products).</param>
    public Tensor Forward(Tensor x, LoraAdapter? adapter, PackedGpt? packed = null)
    {
        long batch = x.shape[0], time = x.shape[1];
        var qkv = Project(c_attn, "attn.c_attn", x, adapter, packed).split(_nEmbd, dim: 2);
        var q = Heads(qkv[0], batch, time);
        var k = Heads(qkv[1], batch, time);
        var v = Heads(qkv[2], batch, time);
        Tensor y;
        if (training && _dropout > 0 && x.device_type == TorchSharp.DeviceType.CPU)
            y = DropoutAttention.Apply(q, k, v, _dropout);
        else if (WritesOutTrainingAttention(q))
            y = DropoutAttention.Probabilities(q, k).matmul(v);
        else
        {
            if (training && _dropout > 0)
                SeededDropout.SeedDevice(x);
            // Fused kernel with the causal mask built in: no T×T matrix is materialised (on GPUs, with dropout too).
            y = functional.scaled_dot_product_attention(q, k, v, p: training ? _dropout : 0.0, is_casual: true);
        }
        y = y.transpose(1, 2).contiguous().view(batch, time, _nEmbd);
        return resid_dropout.forward(Project(c_proj, "attn.c_proj", y, adapter, packed));
    }

    /// <summary>
    /// Whether CPU training computes attention as written-out products rather than LibTorch's fused kernel: the fused
    /// CPU kernel is the slower of the two for its forward and backward pass in bf16 at every size measured, and in
    /// fp32 up to 256 positions; beyond that in fp32 it is faster and keeps no attention map (figures:
    /// docs/benchmarks.md).
    /// </summary>
    private bool WritesOutTrainingAttention(Tensor q) =>
        training && is_grad_enabled() && q.device_type == TorchSharp.DeviceType.CPU
        && (q.dtype == ScalarType.BFloat16 || q.shape[2] <= WrittenOutFp32Positions);

    private const long WrittenOutFp32Positions = 256;

    private Tensor Project(Linear linear, string name, Tensor x, LoraAdapter? adapter, PackedGpt? packed = null) =>
        BlockProjection.Apply(linear, _layer, name, x, ComputeType, adapter, packed);

    // What decoding and explanations (Decoding/) compute with: the same projections and head layout as forward.
    internal int NHead => _nHead;
    internal int NEmbd => _nEmbd;

    /// <summary>c_attn: queries, keys and values side by side (batch, time, 3·embedding).</summary>
    internal Tensor ProjectQkv(Tensor x, LoraAdapter? adapter, PackedGpt? packed = null) =>
        Project(c_attn, "attn.c_attn", x, adapter, packed);

    /// <summary>c_proj: the heads' merged output (batch, time, embedding) projected back.</summary>
    internal Tensor ProjectOutput(Tensor y, LoraAdapter? adapter, PackedGpt? packed = null) =>
        Project(c_proj, "attn.c_proj", y, adapter, packed);


    /// <summary>(batch, time, embedding) as (batch, head, time, head size).</summary>
    internal Tensor Heads(Tensor t, long batch, long time) =>
        t.view(batch, time, _nHead, _nEmbd / _nHead).transpose(1, 2);
}
