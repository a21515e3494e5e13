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

    /// <summary>Type the block's matmuls compute in (null: the parameters' own); see <see cref="MixedPrecision"/>.</summary>
    internal ScalarType? ComputeType
    {
        get => attn.ComputeType;
        set => (attn.ComputeType, mlp.ComputeType) = (value, value);
    }

    public Block(GptConfig config) : base(nameof(Block))
    {
        ln_1 = LayerNorm(config.NEmbd, bias: config.Bias);
        attn = new CausalSelfAttention(config);
        ln_2 = LayerNorm(config.NEmbd, bias: config.Bias);
        mlp = new Mlp(config);
        RegisterComponents();
    }

    public Tensor ForwardCached(Tensor x, KvCache cache, int layer)
    {
        x = x + attn.ForwardCached(ln_1.forward(x), cache, layer);
        return x + mlp.forward(ln_2.forward(x));
    }

    public override Tensor forward(Tensor x)
    {
        x = x + attn.forward(ln_1.forward(x));
        return x + mlp.forward(ln_2.forward(x));
    }
}
