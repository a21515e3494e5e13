using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// One linear layer's weights quantized to int8 and packed for decoding: the weights <see cref="Q8Blocks"/> gives (a
/// scale per 32 inputs of each output, as llama.cpp's Q8_0), a quarter of fp32's bytes, which is what one decoding
/// stream is bound by. Panels of <see cref="Width"/> output columns hold each input's 48 bytes contiguous, then each
/// block's 48 scales. The activations stay fp32: each block's bytes, widened to fp32, are summed against them in one
/// chain of multiply-adds, then scaled and added to the output's chain, so a row's result is the same bit for bit
/// whatever rows or threads share the product.
/// </summary>
public sealed unsafe class PackedInt8Linear : IPackedLinear
{
    private const int Width = 48;
    /// <summary>Rows widened against together (3 × 3 accumulators, 3 weight vectors and a broadcast fit AVX2's 16
    /// registers).</summary>
    private const int TileRows = 3;

    private sbyte* _weights;
    private float* _scales;
    private readonly float[]? _bias;
    private readonly ProductWorkers? _workers;
    private readonly int _blocks;

    /// <param name="weight">(out, in), as <c>nn.Linear</c> keeps it.</param>
    /// <param name="bias">(out), or null; kept fp32.</param>
    /// <param name="workers">Threads that share a large product by panels (null: the caller's alone).</param>
    public PackedInt8Linear(Tensor weight, Tensor? bias, ProductWorkers? workers = null)
    {
        if (!IsSupported)
            throw new PlatformNotSupportedException("Int8 decoding needs AVX2 with fused multiply-add.");
        if (weight.dtype != ScalarType.Float32 || weight.dim() != 2)
            throw new ArgumentException("Packed weights are fp32 matrices (out, in).", nameof(weight));
        _workers = workers;
        Out = (int)weight.shape[0];
        In = (int)weight.shape[1];
        _blocks = (In + Q8Blocks.Size - 1) / Q8Blocks.Size;
        var panels = (Out + Width - 1) / Width;
        var bytes = (nuint)panels * (nuint)In * Width;
        var scales = (nuint)panels * (nuint)_blocks * Width;
        _weights = (sbyte*)NativeMemory.AlignedAlloc(bytes, 64);
        _scales = (float*)NativeMemory.AlignedAlloc(scales * sizeof(float), 64);
        new Span<sbyte>(_weights, checked((int)bytes)).Clear();
        new Span<float>(_scales, checked((int)scales)).Clear();
        using (no_grad())
        using (NewDisposeScope())
        {
            var w = MemoryMarshal.Cast<byte, float>(weight.detach().cpu().contiguous().bytes);
            Span<sbyte> quantized = stackalloc sbyte[Q8Blocks.Size];
            for (var n = 0; n < Out; n++)
            {
                var (panel, column) = (n / Width, n % Width);
                var panelWeights = _weights + (nuint)panel * (nuint)In * Width + column;
                var panelScales = _scales + (nuint)panel * (nuint)_blocks * Width + column;
                for (var b = 0; b < _blocks; b++)
                {
                    var start = b * Q8Blocks.Size;
                    var block = w.Slice(n * In + start, Math.Min(Q8Blocks.Size, In - start));
                    panelScales[b * Width] = (float)Q8Blocks.Quantize(block, quantized);
                    for (var k = 0; k < block.Length; k++)
                        panelWeights[(start + k) * Width] = quantized[k];
                }
            }
            _bias = bias is null ? null : MemoryMarshal.Cast<byte,
                float>(bias.detach().cpu().contiguous().bytes).ToArray();
        }
    }

    /// <summary>Whether this CPU has the vectors the kernel needs.</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    public int In { get; }
    public int Out { get; }

    public Tensor Apply(Tensor x)
    {
        ObjectDisposedException.ThrowIf(_weights is null, this);
        var rows = (int)(x.numel() / In);
        var input = x.contiguous();
        var shape = x.shape.ToArray();
        shape[^1] = Out;
        var output = empty(shape, ScalarType.Float32);
        fixed (byte* xs = input.bytes)
        fixed (byte* ys = output.bytes)
        {
            var (xp, yp) = ((nint)xs, (nint)ys);
            ProductWorkers.Share(_workers, (Out + Width - 1) / Width, (long)In * Out, (first, end) =>
                ApplyPanels((float*)xp, (float*)yp, rows, first, end));
            if (_bias is not null)
                fixed (float* b = _bias)
                    for (var r = 0; r < rows; r++)
                        PackedLinear.AddBias((float*)ys + (nuint)r * (nuint)Out, b, Out);
        }
        return output;
    }

    private void ApplyPanels(float* x, float* y, int rows, int firstPanel, int endPanel)
    {
        var tile = stackalloc float[TileRows * Width];
        for (var panel = firstPanel; panel < endPanel; panel++)
        {
            var column = panel * Width;
            var columns = Math.Min(Width, Out - column);
            var weights = _weights + (nuint)panel * (nuint)In * Width;
            var scales = _scales + (nuint)panel * (nuint)_blocks * Width;
            for (var row = 0; row < rows; row += TileRows)
            {
                var count = Math.Min(TileRows, rows - row);
                var input = x + (nuint)row * (nuint)In;
                if (count == TileRows)
                {
                    new Span<float>(tile, TileRows * Width).Clear();
                    Tile3x24(input, weights, scales, tile);
                    Tile3x24(input, weights + Width / 2, scales + Width / 2, tile + Width / 2);
                }
                else
                    for (var r = 0; r < count; r++)
                        Row(input + (nuint)r * (nuint)In, weights, scales, tile + r * Width);
                for (var r = 0; r < count; r++)
                    new Span<float>(tile + r * Width, columns).CopyTo(
                        new Span<float>(y + (nuint)(row + r) * (nuint)Out + (nuint)column, columns));
            }
        }
    }

    /// <summary>
    /// Three rows against half a panel (24 columns): each block's bytes are widened once for the three rows. A
    /// column's sums are the chains <see cref="Row"/> computes, its running total kept in <paramref name="y"/>
    /// (rows <see cref="Width"/> apart, zeroed by the caller) between blocks, so a row's bits are the same either way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tile3x24(float* x, sbyte* weights, float* scales, float* y)
    {
        float* x0 = x, x1 = x + In, x2 = x + 2 * In;
        for (var b = 0; b < _blocks; b++)
        {
            Vector256<float> s00 = default, s01 = default, s02 = default, s10 = default, s11 = default,
                s12 = default, s20 = default, s21 = default, s22 = default;
            var end = Math.Min(In, (b + 1) * Q8Blocks.Size);
            for (var k = b * Q8Blocks.Size; k < end; k++)
            {
                var w = weights + (nuint)k * Width;
                var w0 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w));
                var w1 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w + 8));
                var w2 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w + 16));
                var xk = Vector256.Create(x0[k]);
                s00 = Fma.MultiplyAdd(xk, w0, s00);
                s01 = Fma.MultiplyAdd(xk, w1, s01);
                s02 = Fma.MultiplyAdd(xk, w2, s02);
                xk = Vector256.Create(x1[k]);
                s10 = Fma.MultiplyAdd(xk, w0, s10);
                s11 = Fma.MultiplyAdd(xk, w1, s11);
                s12 = Fma.MultiplyAdd(xk, w2, s12);
                xk = Vector256.Create(x2[k]);
                s20 = Fma.MultiplyAdd(xk, w0, s20);
                s21 = Fma.MultiplyAdd(xk, w1, s21);
                s22 = Fma.MultiplyAdd(xk, w2, s22);
            }
            var scale = scales + b * Width;
            var (c0, c1, c2) = (Avx.LoadVector256(scale), Avx.LoadVector256(scale + 8), Avx.LoadVector256(scale + 16));
            Accumulate(y, s00, s01, s02, c0, c1, c2);
            Accumulate(y + Width, s10, s11, s12, c0, c1, c2);
            Accumulate(y + 2 * Width, s20, s21, s22, c0, c1, c2);
        }
    }

    private static void Accumulate(float* y, Vector256<float> s0, Vector256<float> s1, Vector256<float> s2,
        Vector256<float> c0, Vector256<float> c1, Vector256<float> c2)
    {
        Fma.MultiplyAdd(s0, c0, Avx.LoadVector256(y)).Store(y);
        Fma.MultiplyAdd(s1, c1, Avx.LoadVector256(y + 8)).Store(y + 8);
        Fma.MultiplyAdd(s2, c2, Avx.LoadVector256(y + 16)).Store(y + 16);
    }

    /// <summary>One row against one panel: per block, 48 chains of multiply-adds of the widened bytes, then each
    /// scaled into its column's sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Row(float* x, sbyte* weights, float* scales, float* y)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        for (var b = 0; b < _blocks; b++)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default;
            var end = Math.Min(In, (b + 1) * Q8Blocks.Size);
            for (var k = b * Q8Blocks.Size; k < end; k++)
            {
                var w = weights + (nuint)k * Width;
                var xk = Vector256.Create(x[k]);
                s0 = Fma.MultiplyAdd(xk, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w)), s0);
                s1 = Fma.MultiplyAdd(xk, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w + 8)), s1);
                s2 = Fma.MultiplyAdd(xk, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w + 16)), s2);
                s3 = Fma.MultiplyAdd(xk, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w + 24)), s3);
                s4 = Fma.MultiplyAdd(xk, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w + 32)), s4);
                s5 = Fma.MultiplyAdd(xk, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w + 40)), s5);
            }
            var scale = scales + b * Width;
            a0 = Fma.MultiplyAdd(s0, Avx.LoadVector256(scale), a0);
            a1 = Fma.MultiplyAdd(s1, Avx.LoadVector256(scale + 8), a1);
            a2 = Fma.MultiplyAdd(s2, Avx.LoadVector256(scale + 16), a2);
            a3 = Fma.MultiplyAdd(s3, Avx.LoadVector256(scale + 24), a3);
            a4 = Fma.MultiplyAdd(s4, Avx.LoadVector256(scale + 32), a4);
            a5 = Fma.MultiplyAdd(s5, Avx.LoadVector256(scale + 40), a5);
        }
        a0.Store(y);
        a1.Store(y + 8);
        a2.Store(y + 16);
        a3.Store(y + 24);
        a4.Store(y + 32);
        a5.Store(y + 40);
    }

    public void Dispose()
    {
        if (_weights is null)
            return;
        NativeMemory.AlignedFree(_weights);
        NativeMemory.AlignedFree(_scales);
        _weights = null;
        _scales = null;
    }
}
