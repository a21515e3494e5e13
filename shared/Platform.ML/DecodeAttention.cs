using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// A decoding step's attention over a <see cref="SlotKvCache"/> with packed weights (<see cref="PackedGpt"/>): each row
/// writes its new key and value at its position, then attends over its own positions 0..p, and nothing else. Every row
/// is computed alone with the same instructions, so its result does not depend on the rows beside it, and no mask or
/// common span is needed. LibTorch ran this as one matrix-vector product per row and head, each a library call that
/// cost as much as the products of the weights at 16 rows (README, Continuous batching).
/// </summary>
internal static unsafe class DecodeAttention
{
    /// <param name="qkv">(rows, 1, 3·embedding) fp32: each row's query, key and value, heads side by side.</param>
    /// <param name="keys">The layer's keys, (slots, heads, head size, block), fp32.</param>
    /// <param name="values">The layer's values, (slots, heads, block, head size), fp32.</param>
    /// <param name="positions">Row r's position (its slot is r).</param>
    /// <returns>(rows, 1, embedding): each row's attention output, heads side by side.</returns>
    public static Tensor Apply(Tensor qkv, Tensor keys, Tensor values, long[] positions, int heads)
    {
        var rows = positions.Length;
        var width = (int)qkv.shape[^1] / 3;
        var headSize = width / heads;
        var block = (int)keys.shape[^1];
        var input = qkv.contiguous();
        var output = empty(rows, 1, width, ScalarType.Float32);
        // Scores for one row and head, padded to whole vectors with -∞ (weight 0 after the softmax).
        var scores = stackalloc float[(block + 7) / 8 * 8];
        fixed (byte* q0 = input.bytes)
        fixed (byte* y0 = output.bytes)
        fixed (byte* k0 = keys.bytes)
        fixed (byte* v0 = values.bytes)
        {
            var scale = 1 / MathF.Sqrt(headSize);
            for (var row = 0; row < rows; row++)
            {
                var position = (int)positions[row];
                var x = (float*)q0 + (nint)row * 3 * width;
                for (var head = 0; head < heads; head++)
                {
                    var slice = (nint)(row * heads + head) * headSize * block;
                    var k = (float*)k0 + slice; // (head size, block)
                    var v = (float*)v0 + slice; // (block, head size)
                    var q = x + head * headSize;
                    for (var d = 0; d < headSize; d++)
                        k[d * block + position] = x[width + head * headSize + d];
                    new Span<float>(x + 2 * width + head * headSize, headSize).CopyTo(new Span<float>(v + position * headSize, headSize));
                    Attend(q, k, v, position + 1, headSize, block, scale, scores, (float*)y0 + (nint)row * width + head * headSize);
                }
            }
        }
        return output;
    }

    /// <summary>y = softmax(q·K[:, ..count] · scale) · V[..count]: one row's attention in one head.</summary>
    private static void Attend(float* q, float* k, float* v, int count, int headSize, int block, float scale, float* scores, float* y)
    {
        var padded = (count + 7) / 8 * 8;
        // q·kₜ for every position t < count: for each, one chain of multiply-adds over the head's dimensions. Eight
        // chains of eight positions run side by side (one chain alone waits on its own latency), each dimension
        // reading 64 contiguous keys.
        int t;
        for (t = 0; t + 64 <= block && t < count; t += 64)
            Scores64(q, k + t, headSize, block, scale, scores + t);
        for (; t + 8 <= block && t < count; t += 8)
        {
            var sum = Vector256<float>.Zero;
            for (var d = 0; d < headSize; d++)
                sum = Vector256.FusedMultiplyAdd(Vector256.Create(q[d]), Vector256.Load(k + d * block + t), sum);
            (sum * scale).Store(scores + t);
        }
        for (; t < count; t++)
        {
            var sum = 0f;
            for (var d = 0; d < headSize; d++)
                sum = MathF.FusedMultiplyAdd(q[d], k[d * block + t], sum);
            scores[t] = sum * scale;
        }
        for (t = count; t < padded; t++)
            scores[t] = float.NegativeInfinity;

        var max = Vector256.Create(float.NegativeInfinity);
        for (t = 0; t < padded; t += 8)
            max = Vector256.Max(max, Vector256.Load(scores + t));
        var top = Vector256.Create(HorizontalMax(max));
        var total = Vector256<float>.Zero;
        for (t = 0; t < padded; t += 8)
        {
            var e = Vector256.Exp(Vector256.Load(scores + t) - top);
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
                sum = Vector256.FusedMultiplyAdd(Vector256.Create(scores[t]), Vector256.Load(v + t * headSize + dim), sum);
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

    private static void Scores64(float* q, float* k, int headSize, int block, float scale, float* scores)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (var d = 0; d < headSize; d++, k += block)
        {
            var qd = Vector256.Create(q[d]);
            s0 = Vector256.FusedMultiplyAdd(qd, Vector256.Load(k), s0);
            s1 = Vector256.FusedMultiplyAdd(qd, Vector256.Load(k + 8), s1);
            s2 = Vector256.FusedMultiplyAdd(qd, Vector256.Load(k + 16), s2);
            s3 = Vector256.FusedMultiplyAdd(qd, Vector256.Load(k + 24), s3);
            s4 = Vector256.FusedMultiplyAdd(qd, Vector256.Load(k + 32), s4);
            s5 = Vector256.FusedMultiplyAdd(qd, Vector256.Load(k + 40), s5);
            s6 = Vector256.FusedMultiplyAdd(qd, Vector256.Load(k + 48), s6);
            s7 = Vector256.FusedMultiplyAdd(qd, Vector256.Load(k + 56), s7);
        }
        (s0 * scale).Store(scores);
        (s1 * scale).Store(scores + 8);
        (s2 * scale).Store(scores + 16);
        (s3 * scale).Store(scores + 24);
        (s4 * scale).Store(scores + 32);
        (s5 * scale).Store(scores + 40);
        (s6 * scale).Store(scores + 48);
        (s7 * scale).Store(scores + 56);
    }

    private static void Values64(float* weights, float* v, int count, int headSize, float inverse, float* y)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
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
