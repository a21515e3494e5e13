using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>Pre-LayerNorm decoder block: causal self-attention, then attention over the encoder output, then the MLP,
/// each residual.</summary>
public sealed class DecoderBlock : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly LayerNorm ln_1;
    private readonly SelfAttention attn;
    private readonly LayerNorm ln_2;
    private readonly CrossAttention cross_attn;
    private readonly LayerNorm ln_3;
    private readonly Mlp mlp;

    public DecoderBlock(EncoderDecoderConfig config) : base(nameof(DecoderBlock))
    {
        ln_1 = LayerNorm(config.NEmbd, bias: config.Bias);
        attn = new SelfAttention(config.NEmbd, config.NHead, config.Dropout, config.Bias, causal: true,
            computeType: config.ComputeType);
        ln_2 = LayerNorm(config.NEmbd, bias: config.Bias);
        cross_attn = new CrossAttention(config.NEmbd, config.NHead, config.Dropout, config.Bias,
            config.ComputeType);
        ln_3 = LayerNorm(config.NEmbd, bias: config.Bias);
        mlp = new Mlp(config.NEmbd, config.Dropout, config.Bias, config.ComputeType);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor memory, Tensor sourceMask)
    {
        x = x + attn.forward(ln_1.forward(x), null);
        x = x + cross_attn.forward(ln_2.forward(x), memory, sourceMask);
        return x + mlp.forward(ln_3.forward(x));
    }

    // Its parts, for decoding and explanations (Decoding/), which run the same block step by step.
    internal LayerNorm Ln1 => ln_1;
    internal SelfAttention Attention => attn;
    internal LayerNorm Ln2 => ln_2;
    internal CrossAttention Cross => cross_attn;
    internal LayerNorm Ln3 => ln_3;
    internal Mlp Mlp => mlp;
}
