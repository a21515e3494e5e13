using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>
/// bf16 compute without autocast (TorchSharp has none), following PyTorch's CPU autocast lists: parameters stay
/// fp32 (the optimizer's master copy, so small updates are not rounded away) and are cast at each use; matmuls,
/// attention and GELU run in the compute type; LayerNorm, the residual stream, logits and the loss stay fp32.
/// Each weight is cast once a step, at its one use in the forward pass, as autocast's per-forward cache would
/// (docs/benchmarks.md has its speed against PyTorch's autocast, and on which CPUs bf16 pays).
/// </summary>
public static class MixedPrecision
{
    public static Tensor Linear(Linear layer, Tensor input, ScalarType? compute) =>
        Linear(input, layer.weight!, layer.bias, compute);

    /// <summary>input · weightᵀ (+ bias) in the compute type; null computes in the tensors' own type.</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias, ScalarType? compute) =>
        compute is not { } type
            ? functional.linear(input, weight, bias)
            : functional.linear(input.to(type), weight.to(type), bias?.to(type));

    /// <summary>The compute type for a precision name: "fp32" (null: no cast) or "bf16".</summary>
    public static ScalarType? Parse(string precision) => precision switch
    {
        "fp32" => null,
        "bf16" => ScalarType.BFloat16,
        _ => throw new ArgumentException($"Unknown precision '{precision}'.", nameof(precision)),
    };
}
