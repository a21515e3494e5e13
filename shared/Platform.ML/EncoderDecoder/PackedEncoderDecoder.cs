using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// An encoder-decoder's decoder packed for decoding (<see cref="PackedLinear"/>): each decoder block's self-attention,
/// cross-attention query and output, and MLP projections, and the tied output head, which every step computes for one
/// new position per hypothesis. The encoder, and the cross-attention's keys and values, run once per source and keep
/// LibTorch's products. A copy of the weights, taken when it is built; no threads of its own, so requests on several
/// threads may share it.
/// </summary>
public sealed class PackedEncoderDecoder : IDisposable
{
    private static readonly string[] Projections =
        ["attn.c_attn", "attn.c_proj", "cross_attn.c_q", "cross_attn.c_proj", "mlp.c_fc", "mlp.c_proj"];
    private readonly Dictionary<(int Layer, string Name), PackedLinear> _layers = [];

    public PackedEncoderDecoder(EncoderDecoder model)
    {
        if (!Supports(model))
            throw new ArgumentException(
                "Only an fp32 encoder-decoder on a CPU with 256-bit fused multiply-add can be packed.", nameof(model));
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        for (var layer = 0; layer < model.Config.NDecoderLayer; layer++)
            foreach (var name in Projections)
                _layers[(layer, name)] = new PackedLinear(parameters[$"decoder.{layer}.{name}.weight"],
                    parameters.GetValueOrDefault($"decoder.{layer}.{name}.bias"));
        Head = new PackedLinear(model.TargetEmbedding.weight!.narrow(0, 0, model.Config.TargetVocabSize), null);
    }

    /// <summary>Whether <paramref name="model"/> can be packed: fp32 weights computing in fp32, on the CPU, and the CPU
    /// has the vectors.</summary>
    public static bool Supports(EncoderDecoder model) =>
        PackedLinear.IsSupported && model.ComputeType is null
        && model.TargetEmbedding.weight!.device_type == TorchSharp.DeviceType.CPU
        && model.TargetEmbedding.weight!.dtype == ScalarType.Float32;

    /// <summary>The tied output head: logits over the real target vocabulary.</summary>
    public PackedLinear Head { get; }

    /// <summary>Decoder layer <paramref name="layer"/>'s projection by its state-dict name within the block
    /// ("attn.c_attn", "cross_attn.c_q", "mlp.c_fc", …).</summary>
    public PackedLinear this[int layer, string name] => _layers[(layer, name)];

    public void Dispose()
    {
        foreach (var layer in _layers.Values)
            layer.Dispose();
        Head.Dispose();
    }
}
