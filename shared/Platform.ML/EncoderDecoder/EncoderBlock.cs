using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>Pre-LayerNorm encoder block: x + attn(ln(x)) over the real source positions, then x + mlp(ln(x)).</summary>
public sealed class EncoderBlock : Module<Tensor, Tensor, Tensor>
{
    private readonly LayerNorm ln_1;
    private readonly SelfAttention attn;
    private readonly LayerNorm ln_2;
    private readonly Mlp mlp;

    public EncoderBlock(EncoderDecoderConfig config) : base(nameof(EncoderBlock))
    {
        ln_1 = LayerNorm(config.NEmbd, bias: config.Bias);
        attn = new SelfAttention(config.NEmbd, config.NHead, config.Dropout, config.Bias, causal: false,
            computeType: config.ComputeType);
        ln_2 = LayerNorm(config.NEmbd, bias: config.Bias);
        mlp = new Mlp(config.NEmbd, config.Dropout, config.Bias, config.ComputeType);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor sourceMask)
    {
        x = x + attn.forward(ln_1.forward(x), sourceMask);
        return x + mlp.forward(ln_2.forward(x));
    }

    // Its parts, for explanations (Decoding/), which run the same block step by step.
    internal LayerNorm Ln1 => ln_1;
    internal SelfAttention Attention => attn;
    internal LayerNorm Ln2 => ln_2;
    internal Mlp Mlp => mlp;
}
