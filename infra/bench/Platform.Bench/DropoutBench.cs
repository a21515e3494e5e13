using System.Diagnostics;
using Platform.ML;
using static TorchSharp.torch;

/// <summary>
/// Dropout on the CPU, at the baby GPT's attention shape (batch 64, 6 heads, 256 positions, head size 64): LibTorch's
/// own dropout against SeededDropout's hashed mask, and one layer's attention forward and backward, fused without
/// dropout, fused with LibTorch's dropout, and DropoutAttention, in fp32 or bf16. Median milliseconds of a few
/// repetitions.
/// </summary>
static class DropoutBench
{
    public static void Run(int threads, int repetitions, ScalarType type)
    {
        set_num_threads(threads);
        manual_seed(1);
        long[] map = [64, 6, 256, 256];
        Console.WriteLine($"\n== dropout p=0.1, {type}, {threads} thread(s), median of {repetitions}");
        using (var scores = rand(map, dtype: type))
        {
            Report("LibTorch dropout, one attention map", repetitions,
                () => nn.functional.dropout(scores, 0.1, training: true).Dispose());
            Report("SeededDropout, one attention map", repetitions,
                () => SeededDropout.Apply(scores, 0.1, training: true).Dispose());
        }
        using var q = randn(64, 6, 256, 64, dtype: type).requires_grad_();
        using var k = randn(64, 6, 256, 64, dtype: type).requires_grad_();
        using var v = randn(64, 6, 256, 64, dtype: type).requires_grad_();
        Report("attention, fused, no dropout", repetitions, () => Backward(
            () => nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true)));
        Report("attention, fused, LibTorch dropout", repetitions, () => Backward(
            () => nn.functional.scaled_dot_product_attention(q, k, v, p: 0.1, is_casual: true)));
        Report("attention, DropoutAttention", repetitions, () => Backward(() => DropoutAttention.Apply(q, k, v, 0.1)));
    }

    private static void Backward(Func<Tensor> attention)
    {
        using var scope = NewDisposeScope();
        attention().sum().backward();
    }

    private static void Report(string name, int repetitions, Action work)
    {
        work(); // warm-up
        var times = new List<double>();
        for (var i = 0; i < repetitions; i++)
        {
            var clock = Stopwatch.StartNew();
            work();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine($"   {name,-36}: {times[times.Count / 2],8:F1} ms");
    }
}
