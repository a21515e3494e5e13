using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Weights in blocks of 32 along a row, each block one scale and 32 signed bytes: ggml's Q8_0. The scale is max |x| /
/// 127 rounded to f16 (as Q8_0 stores it), and each weight round(x / scale) with the unrounded scale, halves away from
/// zero, as ggml's reference quantiser does. The platform's int8 decoding (<see cref="PackedInt8Linear"/>) and its Q8_0
/// GGUF export hold the same values for the same model.
/// </summary>
public static class Q8Blocks
{
    public const int Size = 32;

    /// <summary>Quantizes one block (up to <see cref="Size"/> values) into <paramref name="quantized"/> and returns
    /// its scale.</summary>
    public static Half Quantize(ReadOnlySpan<float> block, Span<sbyte> quantized)
    {
        var max = 0f;
        foreach (var x in block)
            max = Math.Max(max, Math.Abs(x));
        var scale = max / 127f;
        var inverse = scale != 0 ? 1f / scale : 0f;
        for (var i = 0; i < block.Length; i++)
            quantized[i] = (sbyte)MathF.Round(block[i] * inverse, MidpointRounding.AwayFromZero);
        return (Half)scale;
    }

    /// <summary>The values a row holds once quantized: each weight's byte times its block's scale.</summary>
    public static float[] RoundTrip(ReadOnlySpan<float> row)
    {
        var result = new float[row.Length];
        Span<sbyte> quantized = stackalloc sbyte[Size];
        for (var start = 0; start < row.Length; start += Size)
        {
            var block = row.Slice(start, Math.Min(Size, row.Length - start));
            var scale = (float)Quantize(block, quantized);
            for (var i = 0; i < block.Length; i++)
                result[start + i] = quantized[i] * scale;
        }
        return result;
    }
}
