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

    public (Tensor Output, Tensor SelfAttention, Tensor CrossAttention) ForwardExplained(Tensor x, Tensor memory,
        Tensor sourceMask)
    {
        var (attended, self) = attn.ForwardExplained(ln_1.forward(x), null);
        x = x + attended;
        var (crossed, cross) = cross_attn.ForwardExplained(ln_2.forward(x), memory, sourceMask);
        x = x + crossed;
        return (x + mlp.forward(ln_3.forward(x)), self, cross);
    }

    /// <summary>Keys and values of the encoder output for this block's cross-attention, computed once per
    /// input.</summary>
    public (Tensor Keys, Tensor Values) CrossKeysValues(Tensor memory) => cross_attn.KeysValues(memory);

    public Tensor ForwardCached(Tensor x, KvCache cache, int layer, Tensor crossKeys, Tensor crossValues,
        Tensor sourceMask)
    {
        x = x + attn.ForwardCached(ln_1.forward(x), cache, layer);
        x = x + cross_attn.Attend(ln_2.forward(x), crossKeys, crossValues, sourceMask);
        return x + mlp.forward(ln_3.forward(x));
    }
}
