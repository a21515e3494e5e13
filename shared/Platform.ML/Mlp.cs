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

    /// <summary>Type the projections compute in (null: the parameters' own); see <see cref="MixedPrecision"/>.</summary>
    internal ScalarType? ComputeType { get; set; }

    public Mlp(GptConfig config) : this(config.NEmbd, config.Dropout, config.Bias)
    {
    }

    public Mlp(int nEmbd, double dropout, bool bias) : base(nameof(Mlp))
    {
        c_fc = Linear(nEmbd, 4 * nEmbd, hasBias: bias);
        c_proj = Linear(4 * nEmbd, nEmbd, hasBias: bias);
        this.dropout = new SeededDropout(dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) =>
        dropout.forward(MixedPrecision.Linear(c_proj, functional.gelu(MixedPrecision.Linear(c_fc, x, ComputeType)), ComputeType));
}
