using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// One of a block's projections (the attention's c_attn and c_proj, the MLP's c_fc and c_proj): x·Wᵀ + b through the
/// model's packed weights when it decodes with them, else LibTorch's product in the compute type, plus the LoRA
/// adapter's delta for that projection, if any.
/// </summary>
internal static class BlockProjection
{
    /// <param name="name">The projection's state-dict name within the block ("attn.c_attn", "mlp.c_fc", …): how the
    /// adapter and the packed weights find it.</param>
    public static Tensor Apply(Linear linear, int layer, string name, Tensor x, ScalarType? computeType,
        LoraAdapter? adapter, PackedGpt? packed)
    {
        var y = packed is null ? MixedPrecision.Linear(linear, x, computeType) : packed[layer, name].Apply(x);
        return adapter?.Delta(layer, name, x, computeType) is { } delta ? y + delta : y;
    }
}
