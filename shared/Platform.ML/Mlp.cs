using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>Position-wise feed-forward: expand 4×, GELU, project back.</summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    private readonly Linear c_fc;
    private readonly Linear c_proj;
    private readonly Dropout dropout;

    public Mlp(GptConfig config) : base(nameof(Mlp))
    {
        c_fc = Linear(config.NEmbd, 4 * config.NEmbd, hasBias: config.Bias);
        c_proj = Linear(4 * config.NEmbd, config.NEmbd, hasBias: config.Bias);
        dropout = Dropout(config.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => dropout.forward(c_proj.forward(functional.gelu(c_fc.forward(x))));
}
