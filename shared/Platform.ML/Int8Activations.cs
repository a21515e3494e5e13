using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Platform.ML;

/// <summary>
/// Rows of activations quantized as llama.cpp quantizes them on x86 before a Q8_0 product: per block of 32 inputs,
/// the scale is max |x| / 127 (its f16 value is the one that multiplies) and each byte x · 127 / max rounded to
/// nearest, halves to even. The weights' bytes round halves away from zero instead (<see cref="Q8Blocks"/>), as
/// llama.cpp's quantiser does. A row's last block is padded with zeros.
/// </summary>
internal sealed unsafe class Int8Activations
{
    private readonly int _rows, _in, _blocks;

    public Int8Activations(int rows, int inputs)
    {
        (_rows, _in, _blocks) = (rows, inputs, (inputs + Q8Blocks.Size - 1) / Q8Blocks.Size);
        Bytes = GC.AllocateUninitializedArray<sbyte>(rows * _blocks * Q8Blocks.Size);
        Scales = GC.AllocateUninitializedArray<float>(rows * _blocks);
        OffsetSums = GC.AllocateUninitializedArray<int>(rows * _blocks);
    }

    /// <summary>(rows, blocks × 32) bytes.</summary>
    public sbyte[] Bytes { get; }

    /// <summary>(rows, blocks) scales, the f16 values as fp32.</summary>
    public float[] Scales { get; }

    /// <summary>(rows, blocks): −128 × each block's sum of bytes, which takes the stored weights' offset of 128 back
    /// out of their dot products.</summary>
    public int[] OffsetSums { get; }

    /// <summary>Quantizes <paramref name="x"/>, (rows, in) fp32, into this.</summary>
    public void Quantize(float* x)
    {
        var padded = stackalloc float[Q8Blocks.Size];
        fixed (sbyte* bytes = Bytes)
        fixed (float* scales = Scales)
        fixed (int* sums = OffsetSums)
            for (var r = 0; r < _rows; r++)
                for (var b = 0; b < _blocks; b++)
                {
                    var source = x + (nuint)r * (nuint)_in + b * Q8Blocks.Size;
                    var count = Math.Min(Q8Blocks.Size, _in - b * Q8Blocks.Size);
                    if (count < Q8Blocks.Size)
                    {
                        new Span<float>(padded, Q8Blocks.Size).Clear();
                        new Span<float>(source, count).CopyTo(new Span<float>(padded, count));
                        source = padded;
                    }
                    var block = r * _blocks + b;
                    (scales[block], sums[block]) = QuantizeBlock(source, bytes + block * Q8Blocks.Size);
                }
    }

    private static (float Scale, int OffsetSum) QuantizeBlock(float* x, sbyte* q)
    {
        var (v0, v1, v2, v3) = (Avx.LoadVector256(x), Avx.LoadVector256(x + 8), Avx.LoadVector256(x + 16),
            Avx.LoadVector256(x + 24));
        var largest = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)),
            Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
        var max = 0f;
        for (var i = 0; i < Vector256<float>.Count; i++)
            max = Math.Max(max, largest.GetElement(i));
        var inverse = Vector256.Create(max != 0 ? 127f / max : 0f);
        var i0 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(v0 * inverse));
        var i1 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(v1 * inverse));
        var i2 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(v2 * inverse));
        var i3 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(v3 * inverse));
        Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3)).Store(q);
        return ((float)(Half)(max / 127f), -128 * Vector256.Sum(i0 + i1 + i2 + i3));
    }
}
