using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// One linear layer's weights quantized to int8 and packed for decoding: the weights <see cref="Q8Blocks"/> gives (a
/// scale per 32 inputs of each output, as llama.cpp's Q8_0), a quarter of fp32's bytes, which is what one decoding
/// stream is bound by. Each row of activations is quantized the same way (<see cref="Int8Activations"/>), as llama.cpp
/// does before a Q8_0 product, so a block's products are integers summed exactly: VNNI's byte dot products where the
/// CPU has them, else AVX2's. Then each block's sum is scaled into its output's chain of fp32 multiply-adds, so a row's
/// result is the same bit for bit whatever rows or threads share the product, and whichever kernel computes it.
/// </summary>
/// <remarks>
/// Panels of <see cref="Width"/> output columns hold, for each group of 4 inputs, each column's 4 bytes together (the
/// lane a dot-product instruction sums), then each block's <see cref="Width"/> scales. The bytes are stored plus 128,
/// as the unsigned operand VNNI multiplies; a block's sum starts at −128 × the sum of its activations to take that
/// back out.
/// </remarks>
public sealed unsafe class PackedInt8Linear : IPackedLinear
{
    private const int Width = 48;
    /// <summary>Inputs one 32-bit lane sums.</summary>
    private const int Group = 4;
    private const int GroupBytes = Group * Width;
    /// <summary>Rows that share each load of the weights (3 × 3 sums, 3 weight vectors and a broadcast fit AVX2's 16
    /// registers).</summary>
    private const int TileRows = 3;

    private byte* _weights;
    private float* _scales;
    private readonly float[]? _bias;
    private readonly ProductWorkers? _workers;
    private readonly int _blocks;
    private readonly bool _vnni;

    /// <param name="weight">(out, in), as <c>nn.Linear</c> keeps it.</param>
    /// <param name="bias">(out), or null; kept fp32.</param>
    /// <param name="workers">Threads that share a large product by panels (null: the caller's alone).</param>
    /// <param name="vnni">Use VNNI's dot products where the CPU has them; false computes the same bits with AVX2's
    /// (slower, for comparing the two).</param>
    public PackedInt8Linear(Tensor weight, Tensor? bias, ProductWorkers? workers = null, bool vnni = true)
    {
        if (!IsSupported)
            throw new PlatformNotSupportedException("Int8 decoding needs AVX2 with fused multiply-add.");
        if (weight.dtype != ScalarType.Float32 || weight.dim() != 2)
            throw new ArgumentException("Packed weights are fp32 matrices (out, in).", nameof(weight));
        _workers = workers;
        _vnni = vnni && HasVnni;
        Out = (int)weight.shape[0];
        In = (int)weight.shape[1];
        _blocks = (In + Q8Blocks.Size - 1) / Q8Blocks.Size;
        var panels = (Out + Width - 1) / Width;
        var bytes = (nuint)panels * (nuint)PanelBytes;
        var scales = (nuint)panels * (nuint)_blocks * Width;
        _weights = (byte*)NativeMemory.AlignedAlloc(bytes, 64);
        _scales = (float*)NativeMemory.AlignedAlloc(scales * sizeof(float), 64);
        // 128 is a zero weight: what the padding inputs and columns hold.
        new Span<byte>(_weights, checked((int)bytes)).Fill(128);
        new Span<float>(_scales, checked((int)scales)).Clear();
        using (no_grad())
        using (NewDisposeScope())
        {
            var w = MemoryMarshal.Cast<byte, float>(weight.detach().cpu().contiguous().bytes);
            Span<sbyte> quantized = stackalloc sbyte[Q8Blocks.Size];
            for (var n = 0; n < Out; n++)
            {
                var (panel, column) = (n / Width, n % Width);
                var panelWeights = _weights + (nuint)panel * (nuint)PanelBytes + column * Group;
                var panelScales = _scales + (nuint)panel * (nuint)_blocks * Width + column;
                for (var b = 0; b < _blocks; b++)
                {
                    var start = b * Q8Blocks.Size;
                    var block = w.Slice(n * In + start, Math.Min(Q8Blocks.Size, In - start));
                    panelScales[b * Width] = (float)Q8Blocks.Quantize(block, quantized);
                    for (var k = 0; k < block.Length; k++)
                    {
                        var input = start + k;
                        panelWeights[input / Group * GroupBytes + input % Group] = (byte)(quantized[k] + 128);
                    }
                }
            }
            _bias = bias is null ? null : MemoryMarshal.Cast<byte,
                float>(bias.detach().cpu().contiguous().bytes).ToArray();
        }
    }

    /// <summary>Whether this CPU has the vectors the kernel needs.</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Whether this CPU has VNNI's byte dot products (AVX-VNNI), which the kernel uses where it can.</summary>
    public static bool HasVnni => AvxVnni.IsSupported;

    /// <summary>Whether this layer computes with VNNI.</summary>
    public bool UsesVnni => _vnni;

    public int In { get; }
    public int Out { get; }

    private int PaddedIn => _blocks * Q8Blocks.Size;
    private int PanelBytes => PaddedIn * Width;

    public Tensor Apply(Tensor x)
    {
        ObjectDisposedException.ThrowIf(_weights is null, this);
        if (x.dtype != ScalarType.Float32)
            throw new ArgumentException("Packed products take fp32 rows.", nameof(x));
        var rows = (int)(x.numel() / In);
        var input = x.contiguous();
        var shape = x.shape.ToArray();
        shape[^1] = Out;
        // new_empty takes the input's type, fp32, and costs a third of empty(…, Float32).
        var output = input.new_empty(shape);
        var activations = new Int8Activations(rows, In);
        fixed (byte* xs = input.bytes)
        fixed (byte* ys = output.bytes)
        fixed (sbyte* q = activations.Bytes)
        fixed (float* qs = activations.Scales)
        fixed (int* starts = activations.OffsetSums)
        {
            activations.Quantize((float*)xs);
            var (yp, qp, sp, op) = ((nint)ys, (nint)q, (nint)qs, (nint)starts);
            ProductWorkers.Share(_workers, (Out + Width - 1) / Width, (long)In * Out, (first, end) =>
            {
                var a = new Rows((sbyte*)qp, (float*)sp, (int*)op, _blocks);
                if (_vnni)
                    ApplyPanels<VnniDot>(a, (float*)yp, rows, first, end);
                else
                    ApplyPanels<Avx2Dot>(a, (float*)yp, rows, first, end);
            });
            if (_bias is not null)
                fixed (float* b = _bias)
                    for (var r = 0; r < rows; r++)
                        PackedLinear.AddBias((float*)ys + (nuint)r * (nuint)Out, b, Out);
        }
        return output;
    }

    /// <summary>Quantized rows of activations: each row's bytes (padded to whole blocks), and per block its scale and
    /// its dot products' starting value.</summary>
    private readonly struct Rows(sbyte* bytes, float* scales, int* starts, int blocks)
    {
        public sbyte* Bytes(int row) => bytes + (nuint)row * (nuint)blocks * Q8Blocks.Size;
        public float* Scales(int row) => scales + (nuint)row * (nuint)blocks;
        public int* Starts(int row) => starts + (nuint)row * (nuint)blocks;
    }

    private void ApplyPanels<TDot>(Rows x, float* y, int rows, int firstPanel, int endPanel)
        where TDot : struct, IBlockDot
    {
        var tile = stackalloc float[TileRows * Width];
        for (var panel = firstPanel; panel < endPanel; panel++)
        {
            var column = panel * Width;
            var columns = Math.Min(Width, Out - column);
            var weights = _weights + (nuint)panel * (nuint)PanelBytes;
            var scales = _scales + (nuint)panel * (nuint)_blocks * Width;
            for (var row = 0; row < rows; row += TileRows)
            {
                var count = Math.Min(TileRows, rows - row);
                if (count == TileRows)
                {
                    new Span<float>(tile, TileRows * Width).Clear();
                    Tile3x24<TDot>(x, row, weights, scales, tile);
                    Tile3x24<TDot>(x, row, weights + Width / 2 * Group, scales + Width / 2, tile + Width / 2);
                }
                else
                    for (var r = 0; r < count; r++)
                        Row<TDot>(x, row + r, weights, scales, tile + r * Width);
                for (var r = 0; r < count; r++)
                    new Span<float>(tile + r * Width, columns).CopyTo(
                        new Span<float>(y + (nuint)(row + r) * (nuint)Out + (nuint)column, columns));
            }
        }
    }

    /// <summary>
    /// Three rows against half a panel (24 columns): each group's weights are loaded once for the three rows. A
    /// column's block sums are the integers <see cref="Row"/> computes, and its running total, kept in <paramref
    /// name="y"/> (rows <see cref="Width"/> apart, zeroed by the caller) between blocks, takes the same
    /// multiply-adds, so a row's bits are the same either way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tile3x24<TDot>(Rows x, int row, byte* weights, float* scales, float* y)
        where TDot : struct, IBlockDot
    {
        sbyte* x0 = x.Bytes(row), x1 = x.Bytes(row + 1), x2 = x.Bytes(row + 2);
        int* t0 = x.Starts(row), t1 = x.Starts(row + 1), t2 = x.Starts(row + 2);
        for (var b = 0; b < _blocks; b++)
        {
            Vector256<int> s00 = TDot.Start(t0[b]), s01 = s00, s02 = s00;
            Vector256<int> s10 = TDot.Start(t1[b]), s11 = s10, s12 = s10;
            Vector256<int> s20 = TDot.Start(t2[b]), s21 = s20, s22 = s20;
            for (var k = b * Q8Blocks.Size; k < (b + 1) * Q8Blocks.Size; k += Group)
            {
                var w = weights + (nuint)k * Width;
                var (w0, w1, w2) = (Avx.LoadVector256(w), Avx.LoadVector256(w + 32), Avx.LoadVector256(w + 64));
                var xk = Vector256.Create(*(int*)(x0 + k)).AsSByte();
                s00 = TDot.Add(s00, w0, xk);
                s01 = TDot.Add(s01, w1, xk);
                s02 = TDot.Add(s02, w2, xk);
                xk = Vector256.Create(*(int*)(x1 + k)).AsSByte();
                s10 = TDot.Add(s10, w0, xk);
                s11 = TDot.Add(s11, w1, xk);
                s12 = TDot.Add(s12, w2, xk);
                xk = Vector256.Create(*(int*)(x2 + k)).AsSByte();
                s20 = TDot.Add(s20, w0, xk);
                s21 = TDot.Add(s21, w1, xk);
                s22 = TDot.Add(s22, w2, xk);
            }
            var scale = scales + b * Width;
            var (c0, c1, c2) = (Avx.LoadVector256(scale), Avx.LoadVector256(scale + 8), Avx.LoadVector256(scale + 16));
            Accumulate(y, s00, s01, s02, c0, c1, c2, x.Scales(row)[b]);
            Accumulate(y + Width, s10, s11, s12, c0, c1, c2, x.Scales(row + 1)[b]);
            Accumulate(y + 2 * Width, s20, s21, s22, c0, c1, c2, x.Scales(row + 2)[b]);
        }
    }

    private static void Accumulate(float* y, Vector256<int> s0, Vector256<int> s1, Vector256<int> s2,
        Vector256<float> c0, Vector256<float> c1, Vector256<float> c2, float rowScale)
    {
        var r = Vector256.Create(rowScale);
        Fma.MultiplyAdd(Avx.ConvertToVector256Single(s0), Avx.Multiply(c0, r), Avx.LoadVector256(y)).Store(y);
        Fma.MultiplyAdd(Avx.ConvertToVector256Single(s1), Avx.Multiply(c1, r), Avx.LoadVector256(y + 8)).Store(y + 8);
        Fma.MultiplyAdd(Avx.ConvertToVector256Single(s2), Avx.Multiply(c2, r), Avx.LoadVector256(y + 16))
            .Store(y + 16);
    }

    /// <summary>One row against one panel: per block, 48 integer dot products, then each scaled by its column's and
    /// the row's scales into its column's sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Row<TDot>(Rows x, int row, byte* weights, float* scales, float* y) where TDot : struct, IBlockDot
    {
        sbyte* bytes = x.Bytes(row);
        int* starts = x.Starts(row);
        float* rowScales = x.Scales(row);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        for (var b = 0; b < _blocks; b++)
        {
            var s0 = TDot.Start(starts[b]);
            Vector256<int> s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0;
            for (var k = b * Q8Blocks.Size; k < (b + 1) * Q8Blocks.Size; k += Group)
            {
                var w = weights + (nuint)k * Width;
                var xk = Vector256.Create(*(int*)(bytes + k)).AsSByte();
                s0 = TDot.Add(s0, Avx.LoadVector256(w), xk);
                s1 = TDot.Add(s1, Avx.LoadVector256(w + 32), xk);
                s2 = TDot.Add(s2, Avx.LoadVector256(w + 64), xk);
                s3 = TDot.Add(s3, Avx.LoadVector256(w + 96), xk);
                s4 = TDot.Add(s4, Avx.LoadVector256(w + 128), xk);
                s5 = TDot.Add(s5, Avx.LoadVector256(w + 160), xk);
            }
            var scale = scales + b * Width;
            var r = Vector256.Create(rowScales[b]);
            a0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s0), Avx.Multiply(Avx.LoadVector256(scale), r), a0);
            a1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s1), Avx.Multiply(Avx.LoadVector256(scale + 8), r), a1);
            a2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s2), Avx.Multiply(Avx.LoadVector256(scale + 16), r), a2);
            a3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s3), Avx.Multiply(Avx.LoadVector256(scale + 24), r), a3);
            a4 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s4), Avx.Multiply(Avx.LoadVector256(scale + 32), r), a4);
            a5 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s5), Avx.Multiply(Avx.LoadVector256(scale + 40), r), a5);
        }
        a0.Store(y);
        a1.Store(y + 8);
        a2.Store(y + 16);
        a3.Store(y + 24);
        a4.Store(y + 32);
        a5.Store(y + 40);
    }

    /// <summary>Adds to each 32-bit lane the dot product of its 4 stored weight bytes (plus 128) and the 4 activation
    /// bytes broadcast to every lane.</summary>
    private interface IBlockDot
    {
        /// <summary>A block's sums before its products, given −128 × its activations' sum.</summary>
        static abstract Vector256<int> Start(int offsetSum);
        static abstract Vector256<int> Add(Vector256<int> sums, Vector256<byte> weights, Vector256<sbyte> x);
    }

    /// <summary>VNNI: one instruction multiplies the unsigned stored bytes by the signed activations and adds each
    /// lane's four products; the offset's products are taken out by the start.</summary>
    private struct VnniDot : IBlockDot
    {
        public static Vector256<int> Start(int offsetSum) => Vector256.Create(offsetSum);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> sums, Vector256<byte> weights, Vector256<sbyte> x) =>
            AvxVnni.MultiplyWideningAndAdd(sums, weights, x);
    }

    /// <summary>AVX2: the weights back to signed bytes, the activation's sign moved onto them so that pairs of
    /// products fit 16 bits (at most 2 × 127 × 127), then pairs added to lanes.</summary>
    private struct Avx2Dot : IBlockDot
    {
        public static Vector256<int> Start(int offsetSum) => Vector256<int>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> sums, Vector256<byte> weights, Vector256<sbyte> x)
        {
            var signed = Avx2.Xor(weights, Vector256.Create((byte)0x80)).AsSByte();
            var pairs = Avx2.MultiplyAddAdjacent(Avx2.Abs(x), Avx2.Sign(signed, x));
            return Avx2.Add(sums, Avx2.MultiplyAddAdjacent(pairs, Vector256<short>.One));
        }
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
