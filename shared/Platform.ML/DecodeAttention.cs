using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// A decoding step's attention over a <see cref="SlotKvCache"/> with packed weights (<see cref="PackedGpt"/>): each row
/// writes its new key and value at its position, then attends over its own positions 0..p, and nothing else. Every row
/// is computed alone with the same instructions, so its result does not depend on the rows beside it, and no mask or
/// common span is needed. LibTorch ran this as one matrix-vector product per row and head, each a library call that
/// cost as much as the products of the weights at 16 rows (docs/benchmarks.md, "Continuous batching").
/// </summary>
internal static unsafe class DecodeAttention
{
    /// <param name="qkv">(rows, 1, 3·embedding) fp32: each row's query, key and value, heads side by side.</param>
    /// <param name="keys">The layer's keys, (slots, heads, block, head size), fp32 (a cache whose keys are not
    /// transposed).</param>
    /// <param name="values">The layer's values, (slots, heads, block, head size), fp32.</param>
    /// <param name="positions">Row r's position.</param>
    /// <param name="slots">Row r's slot (null: r). Rows of one slot are a prefill's consecutive positions: each row
    /// writes before it attends, so a later row sees the earlier ones, and a position's result is the same whichever
    /// rows share its call.</param>
    /// <returns>(rows, 1, embedding): each row's attention output, heads side by side.</returns>
    public static Tensor Apply(Tensor qkv, Tensor keys, Tensor values, long[] positions, int heads,
        int[]? slots = null)
    {
        var rows = positions.Length;
        var width = (int)qkv.shape[^1] / 3;
        var headSize = width / heads;
        var block = (int)keys.shape[^2];
        var input = qkv.contiguous();
        var output = input.new_empty(rows, 1, width);
        fixed (byte* q0 = input.bytes)
        fixed (byte* y0 = output.bytes)
        fixed (byte* k0 = keys.bytes)
        fixed (byte* v0 = values.bytes)
        {
            var layer = new Layer((float*)q0, (float*)k0, (float*)v0, (float*)y0, width, heads, headSize, block);
            if (slots is not null && rows >= ParallelPrefillRows)
            {
                // A long prefill's attention grows with the square of its length: its heads are independent, so they
                // share the cores (each head's rows still in order).
                Parallel.For(0, heads, head =>
                {
                    var scores = stackalloc float[ScoresLength(block)];
                    for (var row = 0; row < rows; row++)
                        layer.Row(row, slots[row], (int)positions[row], head, scores);
                });
            }
            else
            {
                var scores = stackalloc float[ScoresLength(block)];
                for (var row = 0; row < rows; row++)
                    for (var head = 0; head < heads; head++)
                        layer.Row(row, slots?[row] ?? row, (int)positions[row], head, scores);
            }
        }
        return output;
    }

    /// <summary>Rows from which a prefill's heads run in parallel.</summary>
    private const int ParallelPrefillRows = 64;

    /// <summary>Scores for one row and head, padded to whole vectors with -∞ (weight 0 after the softmax).</summary>
    private static int ScoresLength(int block) => (block + 7) / 8 * 8;

    /// <summary>One call's tensors: the rows' q, k and v side by side, the layer's cache, the output.</summary>
    private readonly struct Layer(float* qkv, float* keys, float* values, float* output, int width, int heads,
        int headSize, int block)
    {
        private readonly float _scale = 1 / MathF.Sqrt(headSize);

        /// <summary>Writes row <paramref name="row"/>'s key and value for one head at its position in its slot, then
        /// attends over the slot's positions up to it (<paramref name="scores"/>: the caller's buffer of
        /// <see cref="ScoresLength"/> floats).</summary>
        public void Row(int row, int slot, int position, int head, float* scores)
        {
            var x = qkv + (nint)row * 3 * width;
            var slice = ((nint)slot * heads + head) * headSize * block;
            var k = keys + slice; // (block, head size)
            var v = values + slice; // (block, head size)
            new Span<float>(x + width + head * headSize, headSize).CopyTo(new Span<float>(k + position * headSize,
                headSize));
            new Span<float>(x + 2 * width + head * headSize, headSize).CopyTo(new Span<float>(v + position * headSize,
                headSize));
            Attend(x + head * headSize, k, v, position + 1, headSize, _scale, scores,
                output + (nint)row * width + head * headSize);
        }
    }

    /// <summary>y = softmax(q·K[..count]ᵀ · scale) · V[..count]: one row's attention in one head. Optimized from its
    /// first call: tiered compilation's first tier ran a served model's first hundreds of steps several times
    /// slower.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Attend(float* q, float* k, float* v, int count, int headSize, float scale, float* scores,
        float* y)
    {
        var padded = (count + 7) / 8 * 8;
        // q·kₜ for every position t < count, the keys read in order: four positions side by side, each its own chains.
        int t;
        for (t = 0; t + 4 <= count; t += 4)
            Dot4(q, k + t * headSize, headSize, scale, scores + t);
        for (; t < count; t++)
            scores[t] = Dot(q, k + t * headSize, headSize) * scale;
        for (t = count; t < padded; t++)
            scores[t] = float.NegativeInfinity;

        var max = Vector256.Create(float.NegativeInfinity);
        for (t = 0; t < padded; t += 8)
            max = Vector256.Max(max, Vector256.Load(scores + t));
        var top = Vector256.Create(HorizontalMax(max));
        var total = Vector256<float>.Zero;
        for (t = 0; t < padded; t += 8)
        {
            var e = VectorExp.NonPositive(Vector256.Load(scores + t) - top);
            e.Store(scores + t);
            total += e;
        }
        var inverse = 1 / Vector256.Sum(total);

        // y = Σₜ wₜ·vₜ: for each dimension one chain over the positions, 64 dimensions (one value row) at a time.
        var dim = 0;
        for (; dim + 64 <= headSize; dim += 64)
            Values64(scores, v + dim, count, headSize, inverse, y + dim);
        for (; dim + 8 <= headSize; dim += 8)
        {
            var sum = Vector256<float>.Zero;
            for (t = 0; t < count; t++)
                sum = Vector256.FusedMultiplyAdd(Vector256.Create(scores[t]), Vector256.Load(v + t * headSize + dim),
                    sum);
            (sum * inverse).Store(y + dim);
        }
        for (; dim < headSize; dim++)
        {
            var sum = 0f;
            for (t = 0; t < count; t++)
                sum = MathF.FusedMultiplyAdd(scores[t], v[t * headSize + dim], sum);
            y[dim] = sum * inverse;
        }
    }

    /// <summary>q·k: eight lanes of multiply-add chains over the dimensions, summed, then the dimensions left
    /// over.</summary>
    private static float Dot(float* q, float* k, int headSize)
    {
        var sum = Vector256<float>.Zero;
        var d = 0;
        for (; d + 8 <= headSize; d += 8)
            sum = Vector256.FusedMultiplyAdd(Vector256.Load(q + d), Vector256.Load(k + d), sum);
        var total = Vector256.Sum(sum);
        for (; d < headSize; d++)
            total = MathF.FusedMultiplyAdd(q[d], k[d], total);
        return total;
    }

    /// <summary><see cref="Dot"/> for four consecutive keys at once, each computed exactly as Dot computes
    /// it.</summary>
    private static void Dot4(float* q, float* k, int headSize, float scale, float* scores)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        float* k1 = k + headSize, k2 = k + 2 * headSize, k3 = k + 3 * headSize;
        var d = 0;
        for (; d + 8 <= headSize; d += 8)
        {
            var qd = Vector256.Load(q + d);
            s0 = Vector256.FusedMultiplyAdd(qd, Vector256.Load(k + d), s0);
            s1 = Vector256.FusedMultiplyAdd(qd, Vector256.Load(k1 + d), s1);
            s2 = Vector256.FusedMultiplyAdd(qd, Vector256.Load(k2 + d), s2);
            s3 = Vector256.FusedMultiplyAdd(qd, Vector256.Load(k3 + d), s3);
        }
        float t0 = Vector256.Sum(s0), t1 = Vector256.Sum(s1), t2 = Vector256.Sum(s2), t3 = Vector256.Sum(s3);
        for (; d < headSize; d++)
        {
            t0 = MathF.FusedMultiplyAdd(q[d], k[d], t0);
            t1 = MathF.FusedMultiplyAdd(q[d], k1[d], t1);
            t2 = MathF.FusedMultiplyAdd(q[d], k2[d], t2);
            t3 = MathF.FusedMultiplyAdd(q[d], k3[d], t3);
        }
        (scores[0], scores[1], scores[2], scores[3]) = (t0 * scale, t1 * scale, t2 * scale, t3 * scale);
    }

    private static void Values64(float* weights, float* v, int count, int headSize, float inverse, float* y)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default,
            a6 = default, a7 = default;
        for (var t = 0; t < count; t++, v += headSize)
        {
            var w = Vector256.Create(weights[t]);
            a0 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v), a0);
            a1 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 8), a1);
            a2 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 16), a2);
            a3 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 24), a3);
            a4 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 32), a4);
            a5 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 40), a5);
            a6 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 48), a6);
            a7 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 56), a7);
        }
        (a0 * inverse).Store(y);
        (a1 * inverse).Store(y + 8);
        (a2 * inverse).Store(y + 16);
        (a3 * inverse).Store(y + 24);
        (a4 * inverse).Store(y + 32);
        (a5 * inverse).Store(y + 40);
        (a6 * inverse).Store(y + 48);
        (a7 * inverse).Store(y + 56);
    }

    private static float HorizontalMax(Vector256<float> v)
    {
        var max = v[0];
        for (var i = 1; i < Vector256<float>.Count; i++)
            max = MathF.Max(max, v[i]);
        return max;
    }
}
