using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>Position-wise feed-forward: expand 4×, GELU, project back.</summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    private readonly Linear c_fc;
    private readonly Linear c_proj;
    private readonly SeededDropout dropout;

    private readonly int _layer;
    private readonly bool _tanhGelu;

    /// <summary>Type the projections compute in (null: the parameters' own); see <see
    /// cref="MixedPrecision"/>.</summary>
    internal ScalarType? ComputeType { get; }

    /// <param name="layer">The block this MLP belongs to (it finds its LoRA adapters by it).</param>
    public Mlp(GptConfig config, int layer = 0) : this(config.NEmbd, config.Dropout, config.Bias, config.ComputeType)
    {
        _layer = layer;
        _tanhGelu = config.Activation == GptConfig.GeluTanh;
    }

    public Mlp(int nEmbd, double dropout, bool bias, ScalarType? computeType = null) : base(nameof(Mlp))
    {
        ComputeType = computeType;
        c_fc = Linear(nEmbd, 4 * nEmbd, hasBias: bias);
        c_proj = Linear(4 * nEmbd, nEmbd, hasBias: bias);
        this.dropout = new SeededDropout(dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => Forward(x, null);

    /// <param name="adapter">LoRA adapters to add to the projections (null: the base alone).</param>
    /// <param name="packed">The model's weights packed for decoding (null: LibTorch's products).</param>
    public Tensor Forward(Tensor x, LoraAdapter? adapter, PackedGpt? packed = null) =>
        dropout.forward(Project(c_proj, "mlp.c_proj", Activation(Project(c_fc, "mlp.c_fc", x, adapter, packed)),
        adapter, packed));

    /// <summary>The same with both projections packed for decoding (an encoder-decoder's decoder: <see
    /// cref="PackedEncoderDecoder"/>).</summary>
    internal Tensor Forward(Tensor x, IPackedLinear fc, IPackedLinear proj) =>
        dropout.forward(proj.Apply(Activation(fc.Apply(x))));

    // GPT-2's "gelu_new", 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), is LibTorch's GELU with the tanh approximation:
    // one fused operation instead of seven.
    private Tensor Activation(Tensor x) =>
        _tanhGelu ? functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh, inplace: false) : functional.gelu(x);

    private Tensor Project(Linear linear, string name, Tensor x, LoraAdapter? adapter, PackedGpt? packed) =>
        BlockProjection.Apply(linear, _layer, name, x, ComputeType, adapter, packed);
}
