using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>A linear layer's weights packed for decoding: fp32 (<see cref="PackedLinear"/>) or int8 (<see
/// cref="PackedInt8Linear"/>).</summary>
public interface IPackedLinear : IDisposable
{
    int In { get; }
    int Out { get; }

    /// <summary>x·Wᵀ + b for x of shape (…, in), fp32 on the CPU: a new tensor (…, out). A row's result is the same
    /// bit for bit whatever rows come with it.</summary>
    Tensor Apply(Tensor x);
}
