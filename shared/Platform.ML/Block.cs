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

    /// <param name="layer">The block's index in the stack (its LoRA adapters are found by it).</param>
    public Block(GptConfig config, int layer = 0) : base(nameof(Block))
    {
        ln_1 = LayerNorm(config.NEmbd, bias: config.Bias);
        attn = new CausalSelfAttention(config, layer);
        ln_2 = LayerNorm(config.NEmbd, bias: config.Bias);
        mlp = new Mlp(config, layer);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => Forward(x, null);

    /// <param name="adapter">LoRA adapters to add to the projections (null: the base alone).</param>
    /// <param name="packed">The model's weights packed for decoding (null: LibTorch's products).</param>
    public Tensor Forward(Tensor x, LoraAdapter? adapter, PackedGpt? packed = null)
    {
        x = x + attn.Forward(ln_1.forward(x), adapter, packed);
        return x + mlp.Forward(ln_2.forward(x), adapter, packed);
    }

    // Its parts, for decoding and explanations (Decoding/), which run the same block step by step.
    internal LayerNorm Ln1 => ln_1;
    internal CausalSelfAttention Attention => attn;
    internal LayerNorm Ln2 => ln_2;
    internal Mlp Mlp => mlp;
}
