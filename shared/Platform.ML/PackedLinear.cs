using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// One fp32 linear layer's weights packed once for decoding, y = x·Wᵀ + b over a few rows at a time.
/// <para>
/// MKL, under LibTorch, packs the weight matrix again at every call and takes other code paths for other row counts, so
/// a decoding step of 16 rows cost several one-row steps and a row's rounding depended on how many rows came with it.
/// Here the weights lie in panels of <see cref="Width"/> output columns, each panel's K rows contiguous, and every
/// output element is one chain of fused multiply-adds over k = 0..K-1 (then + bias), whatever the number of rows: a
/// row's result is the same bit for bit alone or among any others.
/// </para>
/// </summary>
public sealed unsafe class PackedLinear : IPackedLinear
{
    /// <summary>Output columns per panel: three 512-bit vectors, or six 256-bit ones.</summary>
    private const int Width = 48;
    /// <summary>Rows computed together against one panel (8 × 3 vector accumulators fit AVX-512's 32
    /// registers).</summary>
    private const int RowTile = 8;

    private float* _panels;
    private readonly float[]? _bias;
    private readonly ProductWorkers? _workers;

    /// <param name="weight">(out, in), as <c>nn.Linear</c> keeps it.</param>
    /// <param name="bias">(out), or null.</param>
    /// <param name="workers">Threads that share a large product by panels of output columns (null: the caller's
    /// alone).</param>
    public PackedLinear(Tensor weight, Tensor? bias, ProductWorkers? workers = null)
    {
        _workers = workers;
        if (!IsSupported)
            throw new PlatformNotSupportedException("Packed decoding needs 256-bit vectors with fused multiply-add.");
        if (weight.dtype != ScalarType.Float32 || weight.dim() != 2)
            throw new ArgumentException("Packed weights are fp32 matrices (out, in).", nameof(weight));
        Out = (int)weight.shape[0];
        In = (int)weight.shape[1];
        var panels = (Out + Width - 1) / Width;
        var length = (nuint)panels * (nuint)In * Width;
        _panels = (float*)NativeMemory.AlignedAlloc(length * sizeof(float), 64);
        new Span<float>(_panels, checked((int)length)).Clear();
        using (no_grad())
        using (NewDisposeScope())
        {
            // Panel p is rows p·Width.. of W, transposed: (In, Width), zero-padded past Out.
            var w = MemoryMarshal.Cast<byte, float>(weight.detach().cpu().contiguous().bytes);
            for (var n = 0; n < Out; n++)
            {
                var panel = _panels + (nuint)(n / Width) * (nuint)In * Width + n % Width;
                var row = w.Slice(n * In, In);
                for (var k = 0; k < In; k++)
                    panel[k * Width] = row[k];
            }
            _bias = bias is null ? null : MemoryMarshal.Cast<byte,
                float>(bias.detach().cpu().contiguous().bytes).ToArray();
        }
    }

    /// <summary>Whether this CPU has the vectors the kernel needs (else decoding keeps LibTorch's products).</summary>
    public static bool IsSupported => Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported;

    public int In { get; }
    public int Out { get; }


    /// <summary>x·Wᵀ + b for x of shape (…, in), fp32 on the CPU: a new tensor (…, out).</summary>
    public Tensor Apply(Tensor x)
    {
        if (x.dtype != ScalarType.Float32)
            throw new ArgumentException("Packed products take fp32 rows.", nameof(x));
        var rows = (int)(x.numel() / In);
        var input = x.contiguous();
        var shape = x.shape.ToArray();
        shape[^1] = Out;
        // new_empty takes the input's type, fp32, and costs a third of empty(…, Float32).
        var output = input.new_empty(shape);
        fixed (byte* xs = input.bytes)
        fixed (byte* ys = output.bytes)
            Apply((float*)xs, (float*)ys, rows);
        return output;
    }

    private void Apply(float* x, float* y, int rows)
    {
        ObjectDisposedException.ThrowIf(_panels is null, this);
        var panels = (Out + Width - 1) / Width;
        var (xs, ys) = ((nint)x, (nint)y);
        ProductWorkers.Share(_workers, panels, (long)In * Out, (first, end) =>
            ApplyPanels((float*)xs, (float*)ys, rows, first, end));
        if (_bias is not null)
            fixed (float* b = _bias)
                for (var r = 0; r < rows; r++)
                    AddBias(y + (nuint)r * (nuint)Out, b, Out);
    }

    private void ApplyPanels(float* x, float* y, int rows, int firstPanel, int endPanel)
    {
        var tile = stackalloc float[RowTile * Width];
        for (var column = firstPanel * Width; column < Math.Min(Out, endPanel * Width); column += Width)
        {
            var panel = _panels + (nuint)column * (nuint)In;
            var columns = Math.Min(Width, Out - column);
            // A full panel writes straight into y; the last, partial one goes through a tile and is cut to size.
            var full = columns == Width;
            for (var row = 0; row < rows; row += RowTile)
            {
                var count = Math.Min(RowTile, rows - row);
                var target = full ? y + (nuint)row * (nuint)Out + (nuint)column : tile;
                var stride = full ? Out : Width;
                if (Vector512.IsHardwareAccelerated && count == RowTile)
                    Tile8x512(x + (nuint)row * (nuint)In, panel, target, stride);
                else
                    for (var r = 0; r < count; r++)
                        Row(x + (nuint)(row + r) * (nuint)In, panel, target + r * stride);
                if (!full)
                    for (var r = 0; r < count; r++)
                        new Span<float>(tile + r * Width,
                            columns).CopyTo(new Span<float>(y + (nuint)(row + r) * (nuint)Out + (nuint)column,
                            columns));
            }
        }
    }

    /// <summary>
    /// One row against one panel: 48 columns, each a chain of multiply-adds over k. Eight-lane vectors here and sixteen
    /// in <see cref="Tile8x512"/> give the same bits: every lane is its own column's chain.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Row(float* x, float* panel, float* y)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        var w = panel;
        for (var k = 0; k < In; k++, w += Width)
        {
            var xk = Vector256.Create(x[k]);
            a0 = Vector256.FusedMultiplyAdd(xk, Vector256.Load(w), a0);
            a1 = Vector256.FusedMultiplyAdd(xk, Vector256.Load(w + 8), a1);
            a2 = Vector256.FusedMultiplyAdd(xk, Vector256.Load(w + 16), a2);
            a3 = Vector256.FusedMultiplyAdd(xk, Vector256.Load(w + 24), a3);
            a4 = Vector256.FusedMultiplyAdd(xk, Vector256.Load(w + 32), a4);
            a5 = Vector256.FusedMultiplyAdd(xk, Vector256.Load(w + 40), a5);
        }
        a0.Store(y);
        a1.Store(y + 8);
        a2.Store(y + 16);
        a3.Store(y + 24);
        a4.Store(y + 32);
        a5.Store(y + 40);
    }

    /// <summary>Eight rows against one panel, 24 accumulators: each weight vector loaded once serves eight
    /// rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tile8x512(float* x, float* panel, float* y, int stride)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default,
            a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default,
            a40 = default, a41 = default, a42 = default, a50 = default, a51 = default, a52 = default,
            a60 = default, a61 = default, a62 = default, a70 = default, a71 = default, a72 = default;
        var n = In;
        float* x0 = x, x1 = x + n, x2 = x + 2 * n, x3 = x + 3 * n, x4 = x + 4 * n, x5 = x + 5 * n, x6 = x + 6 * n,
            x7 = x + 7 * n;
        var w = panel;
        for (var k = 0; k < n; k++, w += Width)
        {
            var w0 = Vector512.Load(w);
            var w1 = Vector512.Load(w + 16);
            var w2 = Vector512.Load(w + 32);
            var b = Vector512.Create(x0[k]);
            a00 = Vector512.FusedMultiplyAdd(b, w0, a00);
            a01 = Vector512.FusedMultiplyAdd(b, w1, a01);
            a02 = Vector512.FusedMultiplyAdd(b, w2, a02);
            b = Vector512.Create(x1[k]);
            a10 = Vector512.FusedMultiplyAdd(b, w0, a10);
            a11 = Vector512.FusedMultiplyAdd(b, w1, a11);
            a12 = Vector512.FusedMultiplyAdd(b, w2, a12);
            b = Vector512.Create(x2[k]);
            a20 = Vector512.FusedMultiplyAdd(b, w0, a20);
            a21 = Vector512.FusedMultiplyAdd(b, w1, a21);
            a22 = Vector512.FusedMultiplyAdd(b, w2, a22);
            b = Vector512.Create(x3[k]);
            a30 = Vector512.FusedMultiplyAdd(b, w0, a30);
            a31 = Vector512.FusedMultiplyAdd(b, w1, a31);
            a32 = Vector512.FusedMultiplyAdd(b, w2, a32);
            b = Vector512.Create(x4[k]);
            a40 = Vector512.FusedMultiplyAdd(b, w0, a40);
            a41 = Vector512.FusedMultiplyAdd(b, w1, a41);
            a42 = Vector512.FusedMultiplyAdd(b, w2, a42);
            b = Vector512.Create(x5[k]);
            a50 = Vector512.FusedMultiplyAdd(b, w0, a50);
            a51 = Vector512.FusedMultiplyAdd(b, w1, a51);
            a52 = Vector512.FusedMultiplyAdd(b, w2, a52);
            b = Vector512.Create(x6[k]);
            a60 = Vector512.FusedMultiplyAdd(b, w0, a60);
            a61 = Vector512.FusedMultiplyAdd(b, w1, a61);
            a62 = Vector512.FusedMultiplyAdd(b, w2, a62);
            b = Vector512.Create(x7[k]);
            a70 = Vector512.FusedMultiplyAdd(b, w0, a70);
            a71 = Vector512.FusedMultiplyAdd(b, w1, a71);
            a72 = Vector512.FusedMultiplyAdd(b, w2, a72);
        }
        a00.Store(y);
        a01.Store(y + 16);
        a02.Store(y + 32);
        y += stride;
        a10.Store(y);
        a11.Store(y + 16);
        a12.Store(y + 32);
        y += stride;
        a20.Store(y);
        a21.Store(y + 16);
        a22.Store(y + 32);
        y += stride;
        a30.Store(y);
        a31.Store(y + 16);
        a32.Store(y + 32);
        y += stride;
        a40.Store(y);
        a41.Store(y + 16);
        a42.Store(y + 32);
        y += stride;
        a50.Store(y);
        a51.Store(y + 16);
        a52.Store(y + 32);
        y += stride;
        a60.Store(y);
        a61.Store(y + 16);
        a62.Store(y + 32);
        y += stride;
        a70.Store(y);
        a71.Store(y + 16);
        a72.Store(y + 32);
    }

    /// <summary>y[i] += bias[i]: each output's own addition, the same bits however the loop is vectorised.</summary>
    internal static void AddBias(float* y, float* bias, int count)
    {
        var i = 0;
        for (; i + 8 <= count; i += 8)
            (Vector256.Load(y + i) + Vector256.Load(bias + i)).Store(y + i);
        for (; i < count; i++)
            y[i] += bias[i];
    }

    public void Dispose()
    {
        if (_panels is null)
            return;
        NativeMemory.AlignedFree(_panels);
        _panels = null;
    }
}
