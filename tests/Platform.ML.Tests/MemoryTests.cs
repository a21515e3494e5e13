using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

/// <summary>Runs alone: other tests allocating in the same process would move RSS.</summary>
[CollectionDefinition(nameof(MemoryTests), DisableParallelization = true)]
public sealed class MemoryCollection;

[Collection(nameof(MemoryTests))]
public class MemoryTests
{
    private sealed class RssSampler : ITrainingObserver
    {
        public Dictionary<int, long> RssAtStep { get; } = [];

        public void OnStep(StepReport report)
        {
            if (report.Step is 500 or 1999)
                RssAtStep[report.Step] = ResidentKiB();
        }

        public void OnEval(EvalReport report) { }
    }

    private static long ResidentKiB()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:"));
        return long.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1]);
    }

    [Theory]
    [InlineData(0.0, false)]
    [InlineData(0.1, true)] // dropout attention, seeded dropout and bf16 casts
    public void Native_memory_stays_flat_over_two_thousand_steps(double dropout, bool bf16)
    {
        // Every step allocates batches, activations and gradients natively; the per-step dispose scope must
        // release them all, or RSS would grow by megabytes per hundred steps.
        manual_seed(8);
        using var model = new Gpt(new GptConfig(16, 32, 2, 2, 32, dropout)) { ComputeType = bf16 ? ScalarType.BFloat16 : null };
        var ids = Enumerable.Range(0, 5000).Select(i => (i * 5 + i / 11) % 16).ToArray();
        using var data = new TokenBatches(ids, 32, CPU);
        var sampler = new RssSampler();
        new Trainer(new TrainerOptions { MaxSteps = 2000, BatchSize = 8, EvalInterval = 500, EvalIters = 2, LogInterval = 1, Seed = 1 })
            .Train(model, data, data, sampler, CancellationToken.None);

        // Measured alone: RSS wanders within about ±7 MiB after warm-up; a per-step leak of even one batch's
        // activations would add tens of MiB over these 1,500 steps.
        var growthMiB = (sampler.RssAtStep[1999] - sampler.RssAtStep[500]) / 1024.0;
        Assert.True(growthMiB < 20, $"RSS grew by {growthMiB:F1} MiB between steps 500 and 1999");
    }
}
