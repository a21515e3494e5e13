using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>Pre-LayerNorm Transformer block: x + attn(ln(x)), then x + mlp(ln(x)).</summary>
public sealed class Block : Module<Tensor, Tensor>
{
    private readonly LayerNorm ln_1;
    private readonly CausalSelfAttention attn;
    private readonly LayerNorm ln_2;
    private readonly Mlp mlp;

    /// <summary>Type the block's matmuls compute in (null: the parameters' own); see <see
    /// cref="MixedPrecision"/>.</summary>
    internal ScalarType? ComputeType
    {
        get => attn.ComputeType;
        set => (attn.ComputeType, mlp.ComputeType) = (value, value);
    }

    /// <param name="layer">The block's index in the stack (its LoRA adapters are found by it).</param>
    public Block(GptConfig config, int layer = 0) : base(nameof(Block))
    {
        ln_1 = LayerNorm(config.NEmbd, bias: config.Bias);
        attn = new CausalSelfAttention(config, layer);
        ln_2 = LayerNorm(config.NEmbd, bias: config.Bias);
        mlp = new Mlp(config, layer);
        RegisterComponents();
    }

    public Tensor ForwardCached(Tensor x, KvCache cache, int layer, LoraAdapter? adapter = null)
    {
        x = x + attn.ForwardCached(ln_1.forward(x), cache, layer, adapter);
        return x + mlp.Forward(ln_2.forward(x), adapter);
    }

    internal Tensor ForwardPrefill(Tensor x, SlotKvCache cache, int layer, int slot, LoraAdapter? adapter,
        PackedGpt? packed)
    {
        x = x + attn.ForwardPrefill(ln_1.forward(x), cache, layer, slot, adapter, packed);
        return x + mlp.Forward(ln_2.forward(x), adapter, packed);
    }

    internal Tensor ForwardDecode(Tensor x, SlotKvCache cache, int layer, Tensor rows, Tensor positions, Tensor hidden,
        LoraAdapter? adapter)
    {
        x = x + attn.ForwardDecode(ln_1.forward(x), cache, layer, rows, positions, hidden, adapter);
        return x + mlp.Forward(ln_2.forward(x), adapter);
    }

    internal Tensor ForwardDecode(Tensor x, SlotKvCache cache, int layer, long[] positions, LoraAdapter? adapter,
        PackedGpt packed)
    {
        x = x + attn.ForwardDecode(ln_1.forward(x), cache, layer, positions, adapter, packed);
        return x + mlp.Forward(ln_2.forward(x), adapter, packed);
    }

    public override Tensor forward(Tensor x) => Forward(x, null);

    /// <param name="adapter">LoRA adapters to add to the projections (null: the base alone).</param>
    public Tensor Forward(Tensor x, LoraAdapter? adapter)
    {
        x = x + attn.Forward(ln_1.forward(x), adapter);
        return x + mlp.Forward(ln_2.forward(x), adapter);
    }

    /// <summary>The block with its attention weights (batch, head, query, key) kept, for explanations.</summary>
    public (Tensor Output, Tensor Attention) ForwardExplained(Tensor x, LoraAdapter? adapter)
    {
        var (attended, weights) = attn.ForwardExplained(ln_1.forward(x), adapter);
        x = x + attended;
        return (x + mlp.Forward(ln_2.forward(x), adapter), weights);
    }
}
