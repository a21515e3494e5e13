using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// A GPT's linear layers and tied output head packed for decoding (<see cref="PackedLinear"/>): what a
/// <see cref="ContinuousBatcher"/> computes its steps with when the model is fp32 on a CPU that has the vectors. A copy
/// of the weights taken when it is built, so it serves a model whose weights no longer change.
/// </summary>
public sealed class PackedGpt : IDisposable
{
    private static readonly string[] Projections = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"];
    private readonly Dictionary<(int Layer, string Name), IPackedLinear> _layers = [];

    private readonly ProductWorkers? _workers;

    /// <param name="threads">Threads that share each large product (see <see cref="ProductWorkers"/>).</param>
    /// <param name="int8">Quantize the weights to int8 (<see cref="PackedInt8Linear"/>) instead of copying them in
    /// fp32.</param>
    public PackedGpt(Gpt model, int threads = 1, bool int8 = false)
    {
        if (int8 && !PackedInt8Linear.IsSupported)
            throw new PlatformNotSupportedException("Int8 decoding needs AVX2 with fused multiply-add.");
        Int8 = int8;
        _workers = threads > 1 ? new ProductWorkers(threads) : null;
        if (!Supports(model))
            throw new ArgumentException("Only an fp32 GPT on a CPU with 256-bit fused multiply-add can be packed.",
                nameof(model));
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        for (var layer = 0; layer < model.Config.NLayer; layer++)
            foreach (var name in Projections)
                _layers[(layer, name)] = Pack(parameters[$"h.{layer}.{name}.weight"],
                    parameters.GetValueOrDefault($"h.{layer}.{name}.bias"));
        Head = Pack(model.TokenEmbedding.narrow(0, 0, model.Config.VocabSize), null);
    }

    /// <summary>Whether the weights are int8.</summary>
    public bool Int8 { get; }

    private IPackedLinear Pack(Tensor weight, Tensor? bias) =>
        Int8 ? new PackedInt8Linear(weight, bias, _workers) : new PackedLinear(weight, bias, _workers);

    /// <summary>Whether <paramref name="model"/> can be packed: fp32 weights computing in fp32, on the CPU, and the CPU
    /// has the vectors.</summary>
    public static bool Supports(Gpt model) =>
        PackedLinear.IsSupported && model.ComputeType is null
        && model.TokenEmbedding.device_type == TorchSharp.DeviceType.CPU
        && model.TokenEmbedding.dtype == ScalarType.Float32;

    /// <summary>The tied output head: logits over the real vocabulary.</summary>
    public IPackedLinear Head { get; }

    /// <summary>Layer <paramref name="layer"/>'s projection by its state-dict name within the block ("attn.c_attn",
    /// "mlp.c_fc", …).</summary>
    public IPackedLinear this[int layer, string name] => _layers[(layer, name)];

    public void Dispose()
    {
        foreach (var layer in _layers.Values)
            layer.Dispose();
        Head.Dispose();
        _workers?.Dispose();
    }
}
