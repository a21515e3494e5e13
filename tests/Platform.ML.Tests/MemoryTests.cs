using Platform.ML;
using TorchSharp;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

/// <summary>Runs alone: other tests allocating in the same process would move RSS.</summary>
[CollectionDefinition(nameof(MemoryTests), DisableParallelization = true)]
public sealed class MemoryCollection;

/// <summary>
/// Every training step allocates batches, activations and gradients natively; its dispose scope must free them all, so
/// native memory stays flat however long a run trains. What these tests measure, and what they leave out:
/// <list type="bullet">
/// <item>The first <see cref="WarmupSteps"/> steps fill bounded caches (oneDNN's primitives, the allocator's arenas,
/// the JIT's tiers): the window starts after them.</item>
/// <item>The managed heap is not native memory, and its size depends on the CPU: .NET sizes the gen0 budget from the
/// last-level cache, so on a Xeon with a large L3 tens of MiB of garbage (and the small native objects that only
/// finalizers free, such as TorchSharp's scalars) pile up between collections. So every <see cref="SampleEvery"/>
/// steps the sampler collects fully and reads RSS less what the GC has committed.</item>
/// <item>Memory the allocator keeps free (an earlier peak's, or another test's in this process) would take a leak's
/// allocations without RSS moving. So each sample hands free memory back to the system first
/// (<see cref="TorchRuntime.ReleaseFreeMemory"/>: malloc_trim, or jemalloc's purge): RSS then counts what is in
/// use.</item>
/// <item>A cache that fills, or a buffer held for a while, moves memory once; a leak moves it all the time. So the
/// window is cut in two halves, and memory must stay flat in at least one of them.</item>
/// </list>
/// A leak of one batch's activations per step (8 × 32 × 32 fp32 values, 32 KiB) shows twice: as one more live
/// tensor per step (an exact count: 2,000 over the window), and as native memory growing in both halves, by 600 steps
/// × 32 KiB = 18.75 MiB between the medians of each half's ends, over twice the limit. The last test holds the checks
/// to that.
/// </summary>
[Collection(nameof(MemoryTests))]
public class MemoryTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int WarmupSteps = 1000;
    private const int WindowSteps = 2000;
    private const int SampleEvery = 100;
    private const int BatchSize = 8;
    private const int BlockSize = 32;
    private const int Width = 32;
    // The medians of this many samples at each end of a half are compared, so that one sample landing on a passing
    // swing does not count as growth.
    private const int EndSamples = 5;
    private const double NativeGrowthLimitMiB = 8;

    /// <summary>One batch's activations of the model below: batch × block × width fp32 values.</summary>
    private const long ActivationBytes = (long)BatchSize * BlockSize * Width * sizeof(float);

    [Theory]
    [InlineData(0.0, false)]
    [InlineData(0.1, true)] // dropout attention, seeded dropout and bf16 casts
    public void Native_memory_stays_flat_over_a_long_run(double dropout, bool bf16)
    {
        var growth = Train(dropout, bf16, leakPerStep: false);
        output.WriteLine(growth.ToString());

        Assert.True(growth.LiveTensors == 0, $"{growth.LiveTensors} more live tensors at the end of the window");
        Assert.True(growth.NativeMiB < NativeGrowthLimitMiB,
            $"native memory (RSS less the GC's committed bytes) grew in both halves of the {WindowSteps} steps after " +
            $"warm-up, by at least {growth.NativeMiB:F1} MiB; samples: {growth.Samples}");
    }

    [Fact]
    public void A_leak_of_one_batchs_activations_per_step_fails_both_checks()
    {
        var growth = Train(0.0, bf16: false, leakPerStep: true);
        output.WriteLine(growth.ToString());

        Assert.Equal(WindowSteps, growth.LiveTensors);
        Assert.True(growth.NativeMiB >= NativeGrowthLimitMiB,
            $"a leak of {ActivationBytes / 1024} KiB a step grew native memory by only {growth.NativeMiB:F1} MiB; " +
            $"samples: {growth.Samples}");
    }

    private static Growth Train(double dropout, bool bf16, bool leakPerStep)
    {
        manual_seed(8);
        using var model = new Gpt(new GptConfig(16, BlockSize, 2, 2, Width, dropout)
        {
            ComputeType = bf16 ? ScalarType.BFloat16 : null,
        });
        var ids = Enumerable.Range(0, 5000).Select(i => (i * 5 + i / 11) % 16).ToArray();
        using var data = new TokenBatches(ids, BlockSize, CPU);
        using var sampler = new NativeMemorySampler(leakPerStep);
        var options = new TrainerOptions
        {
            MaxSteps = WarmupSteps + WindowSteps + 1,
            BatchSize = BatchSize,
            EvalInterval = 500,
            EvalIters = 2,
            LogInterval = 1,
            Seed = 1,
        };
        new Trainer(options).Train(model, data, data, sampler, CancellationToken.None);
        return sampler.Growth();
    }

    private sealed record Sample(int Step, double NativeMiB, long LiveTensors);

    private sealed record Growth(double NativeMiB, long LiveTensors, string Samples)
    {
        public override string ToString() =>
            $"native growth {NativeMiB:F1} MiB, live tensors {LiveTensors:+0;-0;0}; samples (step: MiB) {Samples}";
    }

    private sealed class NativeMemorySampler(bool leakPerStep) : ITrainingObserver, IDisposable
    {
        private readonly List<Sample> _samples = [];
        private readonly List<Tensor> _leaked = [];

        public void OnStep(StepReport report)
        {
            if (leakPerStep && report.Step >= WarmupSteps)
                _leaked.Add(zeros(BatchSize, BlockSize, Width).DetachFromDisposeScope());
            if (report.Step >= WarmupSteps && (report.Step - WarmupSteps) % SampleEvery == 0)
                _samples.Add(Take(report.Step));
        }

        public void OnEval(EvalReport report) { }

        /// <summary>The smaller of the two halves' native growth, and the tensors gained over the window.</summary>
        public Growth Growth()
        {
            var middle = _samples.Count / 2;
            var halves = new[] { _samples[..(middle + 1)], _samples[middle..] };
            var native = halves.Min(half => Median(half.TakeLast(EndSamples)) - Median(half.Take(EndSamples)));
            return new Growth(native, _samples[^1].LiveTensors - _samples[0].LiveTensors,
                string.Join(", ", _samples.Select(s => $"{s.Step}: {s.NativeMiB:F1}")));
        }

        public void Dispose()
        {
            foreach (var tensor in _leaked)
                tensor.Dispose();
        }

        private static Sample Take(int step)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            TorchRuntime.ReleaseFreeMemory();
            var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:"));
            var rssBytes = long.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            var managedBytes = GC.GetGCMemoryInfo().TotalCommittedBytes;
            var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            return new Sample(step, (rssBytes - managedBytes) / (1024.0 * 1024), live);
        }

        private static double Median(IEnumerable<Sample> samples)
        {
            var sorted = samples.Select(s => s.NativeMiB).Order().ToArray();
            var middle = sorted.Length / 2;
            return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        }
    }
}
