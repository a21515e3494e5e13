using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class PackedInt8LinearTests
{
    [Fact]
    public void A_product_equals_its_hand_computation_on_the_quantized_weights_and_activations()
    {
        // One output over 64 inputs, two blocks.
        // Block 0: the weights' largest magnitude is 127, so their scale is 1 and they are kept: 127, −64, 1. The
        // activations 1, 2, 3 have scale 3/127 (as f16) and become round(x · 127/3): 42, 85, 127. Sum: 5334 − 5440 +
        // 127 = 21.
        // Block 1: the weights' largest is 63.5 (scale 0.5): 63.5 is 127 steps, and −0.25 is −0.5 steps, which rounds
        // away from zero to −1. The activations' largest is 127 (scale 1): 127 stays and 62.5 rounds half to even, to
        // 62. Sum: 127 · 62 − 127 = 7747, times 0.5.
        var w = new float[64];
        (w[0], w[1], w[2], w[32], w[33]) = (127, -64, 1, 63.5f, -0.25f);
        var x = new float[64];
        (x[0], x[1], x[2], x[32], x[33]) = (1, 2, 3, 62.5f, 127);
        using var weight = tensor(w).view(1, 64);
        using var bias = tensor(new[] { 0.5f });
        using var input = tensor(x).view(1, 64);
        var expected = 21 * (float)(Half)(3f / 127) + 7747 * 0.5f + 0.5f;
        foreach (var vnni in new[] { true, false })
        {
            using var packed = new PackedInt8Linear(weight, bias, vnni: vnni);
            Assert.Equal(expected, packed.Apply(input).item<float>(), 1e-3f);
        }
    }

    /// <summary>Activations quantized as llama.cpp does on x86, written out plainly: scale max|x|/127 held as f16,
    /// bytes round(x · 127/max), halves to even.</summary>
    private static float[] ReferenceActivations(float[] row)
    {
        var result = new float[row.Length];
        for (var start = 0; start < row.Length; start += 32)
        {
            var count = Math.Min(32, row.Length - start);
            var max = row.Skip(start).Take(count).Max(MathF.Abs);
            var inverse = max != 0 ? 127f / max : 0f;
            var scale = (float)(Half)(max / 127f);
            for (var i = start; i < start + count; i++)
                result[i] = MathF.Round(row[i] * inverse, MidpointRounding.ToEven) * scale;
        }
        return result;
    }

    private static Tensor Dequantized(Tensor m, Func<float[], float[]> roundTrip)
    {
        var columns = (int)m.shape[1];
        return tensor(m.data<float>().ToArray().Chunk(columns).SelectMany(roundTrip).ToArray()).view(m.shape);
    }

    public static TheoryData<int, int> Shapes => new()
    {
        { 384, 128 }, // whole panels and blocks
        { 50, 70 },   // a partial last panel (48 + 2) and a partial last block (64 + 6)
    };

    /// <summary>Against LibTorch's product of the weights and activations after a quantize-dequantize round trip:
    /// equal up to the order of fp32 additions, at every row count, and bit for bit the same row alone or among
    /// others.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_product_is_LibTorchs_on_the_int8_values_at_every_row_count(int outputs, int inputs)
    {
        manual_seed(8);
        using var scope = NewDisposeScope();
        var weight = randn(outputs, inputs) * 0.1;
        var bias = randn(outputs);
        var rows = weight.data<float>().ToArray().Chunk(inputs).SelectMany(r => Q8Blocks.RoundTrip(r)).ToArray();
        var dequantized = tensor(rows).view(outputs, inputs);
        using var packed = new PackedInt8Linear(weight, bias);
        var single = randn(1, inputs);
        var alone = packed.Apply(single).data<float>().ToArray();
        foreach (var count in new[] { 1, 3, 9 })
        {
            var x = cat([single, randn(count - 1, inputs)]);
            var actual = packed.Apply(x);
            var expected = nn.functional.linear(Dequantized(x, ReferenceActivations), dequantized, bias);
            Assert.True(allclose(actual, expected, rtol: 1e-5, atol: 1e-5),
                $"largest difference {(actual - expected).abs().max().item<float>()}");
            Assert.Equal(alone, actual[0].data<float>().ToArray());
        }
        // And the quantization is the one the Q8_0 export writes: the round trip moves no weight by more than half a
        // step of its block (the largest magnitude / 254), to within the f16 scale's rounding.
        var original = weight.data<float>().ToArray();
        for (var i = 0; i < original.Length; i += 97)
        {
            var row = i / inputs;
            var start = i % inputs / 32 * 32;
            var block = original.Skip(row * inputs + start).Take(Math.Min(32, inputs - start));
            Assert.InRange(Math.Abs(rows[i] - original[i]), 0, block.Max(Math.Abs) / 254 * 1.01 + 1e-7);
        }
    }

    /// <summary>VNNI's kernel and AVX2's sum the same integers and scale them alike: the same bits, so a model serves
    /// the same text on either kind of CPU. (Where the CPU has no VNNI, both layers compute with AVX2.)</summary>
    [Fact]
    public void VNNI_and_AVX2_give_the_same_bits()
    {
        manual_seed(10);
        using var scope = NewDisposeScope();
        var weight = randn(100, 200) * 0.05;
        var bias = randn(100);
        using var vnni = new PackedInt8Linear(weight, bias);
        using var avx2 = new PackedInt8Linear(weight, bias, vnni: false);
        Assert.Equal(PackedInt8Linear.HasVnni, vnni.UsesVnni);
        Assert.False(avx2.UsesVnni);
        foreach (var count in new[] { 1, 4 })
        {
            // Large and small magnitudes, so the sums span many bits.
            var x = randn(count, 200) * exp(randn(count, 200) * 2);
            Assert.Equal(vnni.Apply(x).data<float>().ToArray(), avx2.Apply(x).data<float>().ToArray());
        }
    }

    [Fact]
    public void Shared_among_threads_it_gives_the_same_bits()
    {
        manual_seed(9);
        using var scope = NewDisposeScope();
        var weight = randn(1_450, 768) * 0.05;
        using var alone = new PackedInt8Linear(weight, null);
        using var workers = new ProductWorkers(2);
        using var shared = new PackedInt8Linear(weight, null, workers);
        foreach (var count in new[] { 1, 5 })
        {
            var x = randn(count, 768);
            Assert.Equal(alone.Apply(x).data<float>().ToArray(), shared.Apply(x).data<float>().ToArray());
        }
    }
}
