using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>Median step times of one shape in fp32 and in bf16 on one machine, and which is faster.</summary>
public sealed record PrecisionTiming(double Fp32Millis, double Bf16Millis, int StepsEach)
{
    /// <summary>
    /// Within this share of each other the two count as equally fast, and fp32 (exact, no rounding of the products)
    /// is taken.
    /// </summary>
    public const double Tie = 0.02;

    public string Faster => Bf16Millis < Fp32Millis * (1 - Tie) ? "bf16" : "fp32";

    public string Describe() =>
        $"fp32 {Fp32Millis:F1} ms/step, bf16 {Bf16Millis:F1} ms/step (median of {StepsEach} steps each)";
}

/// <summary>
/// Times a few training steps of one shape in both precisions, to choose between them where neither is known to
/// win: bf16 halves the bytes the products read, but whether it is faster depends on the CPU (AVX512-BF16 or AMX,
/// and which BLAS kernels the vendor gets) and the shape. The rounds go fp32, bf16, bf16, fp32, so a machine whose
/// speed drifts during the trial slows both alike.
/// </summary>
public static class PrecisionTrial
{
    /// <param name="open">The task of the shape in a compute type (null: fp32); the trial disposes it.</param>
    public static PrecisionTiming Measure(Func<ScalarType?, ITrainingTask> open, Trainer trainer,
        CancellationToken cancellationToken, double minSecondsPerRound = 0.5)
    {
        var millis = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        foreach (var bf16 in new[] { false, true, true, false })
        {
            var task = open(bf16 ? ScalarType.BFloat16 : null);
            try
            {
                var seconds = TimeSpan.FromSeconds(minSecondsPerRound);
                millis[bf16].AddRange(trainer.TimeSteps(task, warmupSteps: 2, warmupTime: seconds, minSteps: 3,
                    minTime: seconds, maxSteps: 50, cancellationToken));
            }
            finally
            {
                (task as IDisposable)?.Dispose();
                // The two precisions' buffers differ in size: without this, an allocator that keeps freed pages (the
                // training service's jemalloc) would hold both sets, and the worker's peak would exceed either's.
                TorchRuntime.ReleaseFreeMemory();
            }
        }
        return new PrecisionTiming(Median(millis[false]), Median(millis[true]),
            Math.Min(millis[false].Count, millis[true].Count));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
