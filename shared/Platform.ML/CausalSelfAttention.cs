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
    internal ScalarType? ComputeType { get; set; }

    /// <param name="layer">The block this attention belongs to (it finds its LoRA adapters by it).</param>
    public CausalSelfAttention(GptConfig config, int layer = 0) : base(nameof(CausalSelfAttention))
    {
        _layer = layer;
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
    public Tensor Forward(Tensor x, LoraAdapter? adapter)
    {
        long batch = x.shape[0], time = x.shape[1];
        var qkv = Project(c_attn, "attn.c_attn", x, adapter).split(_nEmbd, dim: 2);
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
        return resid_dropout.forward(Project(c_proj, "attn.c_proj", y, adapter));
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

    /// <summary>
    /// The same attention written out (inference, no dropout), also returning its weights (batch, head, query, key):
    /// what explanations show. Each row sums to 1 and puts no weight on later positions.
    /// </summary>
    public (Tensor Output, Tensor Weights) ForwardExplained(Tensor x, LoraAdapter? adapter)
    {
        long batch = x.shape[0], time = x.shape[1];
        var qkv = Project(c_attn, "attn.c_attn", x, adapter).split(_nEmbd, dim: 2);
        var (q, k, v) = (Heads(qkv[0], batch, time), Heads(qkv[1], batch, time), Heads(qkv[2], batch, time));
        var scores = q.matmul(k.transpose(-2, -1)).to(ScalarType.Float32) / Math.Sqrt(_nEmbd / _nHead);
        var future = ones(time, time, dtype: ScalarType.Bool, device: x.device).triu(1);
        var weights = functional.softmax(scores.masked_fill(future, double.NegativeInfinity), -1);
        var y = weights.to(v.dtype).matmul(v).transpose(1, 2).contiguous().view(batch, time, _nEmbd);
        return (Project(c_proj, "attn.c_proj", y, adapter), weights);
    }

    private Tensor Project(Linear linear, string name, Tensor x, LoraAdapter? adapter, PackedGpt? packed = null) =>
        BlockProjection.Apply(linear, _layer, name, x, ComputeType, adapter, packed);

    /// <summary>
    /// Attention for new positions appended to a cache: a prefill into an empty cache is causal among its own
    /// positions; a single new position attends to everything cached.
    /// </summary>
    public Tensor ForwardCached(Tensor x, KvCache cache, int layer, LoraAdapter? adapter = null)
    {
        long batch = x.shape[0], time = x.shape[1];
        if (time > 1 && cache.LayerLength(layer) > 0)
            throw new ArgumentException("Several new positions can only be prefilled into an empty cache.");
        var qkv = Project(c_attn, "attn.c_attn", x, adapter).split(_nEmbd, dim: 2);
        var (k, v) = cache.Append(layer, Heads(qkv[1], batch, time), Heads(qkv[2], batch, time));
        var y = functional.scaled_dot_product_attention(Heads(qkv[0], batch, time), k, v, is_casual: time > 1);
        y = y.transpose(1, 2).contiguous().view(batch, time, _nEmbd);
        return Project(c_proj, "attn.c_proj", y, adapter);
    }

    /// <summary>
    /// A sequence's window into its slot of a <see cref="SlotKvCache"/> (positions 0..time-1, causal among themselves):
    /// the same computation as a prefill into a <see cref="KvCache"/>, whatever else the cache holds.
    /// </summary>
    internal Tensor ForwardPrefill(Tensor x, SlotKvCache cache, int layer, int slot, LoraAdapter? adapter,
        PackedGpt? packed)
    {
        long time = x.shape[1];
        var qkv = Project(c_attn, "attn.c_attn", x, adapter, packed).split(_nEmbd, dim: 2);
        var (q, k, v) = (Heads(qkv[0], 1, time), Heads(qkv[1], 1, time), Heads(qkv[2], 1, time));
        if (cache.KeysTransposed)
            cache.Keys(layer)[slot].narrow(2, 0, time).copy_(k[0].transpose(-2, -1));
        else
            cache.Keys(layer)[slot].narrow(1, 0, time).copy_(k[0]);
        cache.Values(layer)[slot].narrow(1, 0, time).copy_(v[0]);
        var y = functional.scaled_dot_product_attention(q, k, v, is_casual: true);
        return Project(c_proj, "attn.c_proj", y.transpose(1, 2).contiguous().view(1, time, _nEmbd), adapter, packed);
    }

    /// <summary>
    /// One new position for each of the rows 0..M-1 of the cache (x: M, 1, embedding), row r at positions[r]: its key
    /// and value are written there, and it attends over the first span positions of its slot, <paramref name="hidden"/>
    /// (M, 1, 1, span) masking what lies after it. The span is set by the furthest row, in whole runs of 64 positions:
    /// the positions a row does not see get weight exactly 0, so its result does not depend on the other rows.
    /// </summary>
    internal Tensor ForwardDecode(Tensor x, SlotKvCache cache, int layer, Tensor rows, Tensor positions, Tensor hidden,
        LoraAdapter? adapter)
    {
        long batch = x.shape[0];
        var qkv = Project(c_attn, "attn.c_attn", x, adapter).split(_nEmbd, dim: 2);
        var (q, k, v) = (Heads(qkv[0], batch, 1), Heads(qkv[1], batch, 1), Heads(qkv[2], batch, 1));
        var (keys, values) = (cache.Keys(layer), cache.Values(layer));
        keys.index_put_(k.squeeze(2), TensorIndex.Tensor(rows), TensorIndex.Colon, TensorIndex.Colon,
            TensorIndex.Tensor(positions));
        values.index_put_(v.squeeze(2), TensorIndex.Tensor(rows), TensorIndex.Colon, TensorIndex.Tensor(positions));
        // Written out rather than the fused kernel: with several threads that kernel splits the work by the batch's
        // size, which changes a row's rounding; these products and the softmax treat every row alike at any batch size.
        var span = hidden.shape[^1];
        var scores = q.matmul(keys.narrow(0, 0, batch).narrow(3, 0, span)) / Math.Sqrt(_nEmbd / _nHead);
        var weights = functional.softmax(scores.masked_fill(hidden, double.NegativeInfinity), -1);
        var y = weights.matmul(values.narrow(0, 0, batch).narrow(2, 0, span));
        return Project(c_proj, "attn.c_proj", y.transpose(1, 2).contiguous().view(batch, 1, _nEmbd), adapter);
    }

    /// <summary>
    /// The same step with packed weights: row r (x: M, 1, embedding) at positions[r] writes its key and value there and
    /// attends over its own positions only (<see cref="DecodeAttention"/>), so it needs no mask.
    /// </summary>
    internal Tensor ForwardDecode(Tensor x, SlotKvCache cache, int layer, long[] positions, LoraAdapter? adapter,
        PackedGpt packed)
    {
        var qkv = Project(c_attn, "attn.c_attn", x, adapter, packed);
        var y = DecodeAttention.Apply(qkv, cache.Keys(layer), cache.Values(layer), positions, _nHead);
        return Project(c_proj, "attn.c_proj", y, adapter, packed);
    }

    private Tensor Heads(Tensor t, long batch, long time) =>
        t.view(batch, time, _nHead, _nEmbd / _nHead).transpose(1, 2);
}
