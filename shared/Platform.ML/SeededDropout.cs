using System.Runtime.InteropServices;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>
/// Dropout whose mask comes from a counter-based hash (SplitMix64) keyed by one draw from torch's generator.
/// LibTorch's CPU dropout draws every element from its serial Mersenne Twister, which dominates a step of a model
/// that runs many dropouts over attention maps (figures: docs/benchmarks.md, "Dropout"). Same distribution (p rounded
/// to a multiple of 2⁻¹⁶, with the matching 1/(1−p) scale), and the mask
/// is fully determined by torch's RNG state, which checkpoints save and <see cref="RecomputedBlock"/> restores.
/// On CUDA LibTorch's own dropout (Philox, fast there) is used, its generator reseeded from the same CPU draw, so
/// GPU masks too follow the CPU state (TorchSharp cannot read or restore the CUDA generator's state).
/// </summary>
public sealed class SeededDropout(double p) : Module<Tensor, Tensor>(nameof(SeededDropout))
{
    public override Tensor forward(Tensor input) => Apply(input, p, training);

    public static Tensor Apply(Tensor input, double p, bool training)
    {
        if (!training || p <= 0)
            return input;
        if (input.device_type != TorchSharp.DeviceType.CPU)
        {
            SeedDevice(input);
            return functional.dropout(input, p, training: true);
        }
        return Apply(input, p, NextSeed());
    }

    /// <summary>Reseeds the CUDA generator from the global CPU generator before LibTorch draws a mask on the
    /// GPU.</summary>
    public static void SeedDevice(Tensor onDevice)
    {
        if (onDevice.device_type == TorchSharp.DeviceType.CUDA)
            cuda.manual_seed((long)(NextSeed() >> 1));
    }

    /// <summary>Dropout with the mask of the given seed: the same seed and shape give the same mask.</summary>
    public static Tensor Apply(Tensor input, double p, ulong seed)
    {
        using var drop = Mask(input.shape, p, seed, out var scale);
        // masked_fill keeps only the 1-byte mask for backward (a multiply by a float mask would keep 4 bytes).
        return input.mul(scale).masked_fill_(drop, 0);
    }

    /// <summary>
    /// The elements to drop (true) for a seed and shape, and the scale 1/(1−p) for the others; p is rounded to a
    /// multiple of 2⁻¹⁶ and the scale follows the rounded value, so the expectation is kept exactly.
    /// </summary>
    public static Tensor Mask(long[] shape, double p, ulong seed, out double scale)
    {
        var dropped = Math.Clamp((int)Math.Round(p * 65536), 0, 65535);
        scale = 65536.0 / (65536 - dropped);
        using var noise = Noise(shape, seed);
        // Uniform int16: values below this threshold make up dropped/65536 of all values.
        return noise.lt(dropped - 32768);
    }

    /// <summary>Uniform int16 noise of the given shape: SplitMix64 of (seed, word index), four values per
    /// word.</summary>
    public static Tensor Noise(long[] shape, ulong seed)
    {
        var count = shape.Aggregate(1L, (a, b) => a * b);
        var noise = empty((count + 3) / 4 * 4, dtype: ScalarType.Int16);
        var words = MemoryMarshal.Cast<byte, ulong>(noise.bytes);
        for (var i = 0; i < words.Length; i++)
        {
            var z = seed + (ulong)i * 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            words[i] = z ^ (z >> 31);
        }
        using (noise)
            return noise.narrow(0, 0, count).view(shape);
    }

    // One draw from the global generator per mask: masks follow torch.manual_seed and set_rng_state.
    public static ulong NextSeed()
    {
        using var draw = randint(long.MaxValue, [1], dtype: ScalarType.Int64);
        return (ulong)draw.item<long>();
    }
}
