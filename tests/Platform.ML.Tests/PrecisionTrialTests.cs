using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class PrecisionTrialTests
{
    /// <summary>A real task whose steps take <paramref name="extra"/> longer: a gap for the trial to find.</summary>
    private sealed class DelayedTask(Gpt model, ITrainingTask inner, TimeSpan extra) : ITrainingTask, IDisposable
    {
        public nn.Module Model => inner.Model;
        public object Config => inner.Config;
        public double TokensPerBatch(int batchSize) => inner.TokensPerBatch(batchSize);

        public Tensor Loss(bool validation, int batchSize, Generator generator)
        {
            Thread.Sleep(extra);
            return inner.Loss(validation, batchSize, generator);
        }

        public void Dispose() => model.Dispose();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_trial_takes_the_precision_whose_steps_are_faster_and_disposes_what_it_opened(bool bf16Delayed)
    {
        manual_seed(3);
        using var data = new TokenBatches([.. Enumerable.Range(0, 2000).Select(i => i * 7 % 16)], 16, CPU);
        var opened = new List<(ScalarType? Compute, Gpt Model)>();
        ITrainingTask Open(ScalarType? compute)
        {
            var model = new Gpt(new GptConfig(16, 16, 1, 2, 16) { ComputeType = compute });
            opened.Add((compute, model));
            var delayed = (compute == ScalarType.BFloat16) == bf16Delayed;
            var extra = TimeSpan.FromMilliseconds(delayed ? 30 : 0);
            return new DelayedTask(model, new GptTraining(model, data, data), extra);
        }

        var trainer = new Trainer(new TrainerOptions { BatchSize = 4 });
        var timing = PrecisionTrial.Measure(Open, trainer, CancellationToken.None, minSecondsPerRound: 0.1);

        Assert.Equal(bf16Delayed ? "fp32" : "bf16", timing.Faster);
        // The delayed side's median holds the 30 ms it was given.
        Assert.True((bf16Delayed ? timing.Bf16Millis : timing.Fp32Millis) >= 30, timing.Describe());
        Assert.True(timing.StepsEach >= 6, timing.Describe());
        // Rounds fp32, bf16, bf16, fp32 (a drifting machine slows both alike), each on a model of its own, disposed.
        Assert.Equal([null, ScalarType.BFloat16, ScalarType.BFloat16, null], opened.Select(o => o.Compute));
        Assert.All(opened, o => Assert.Throws<InvalidOperationException>(() => o.Model.parameters().First().numel()));
    }

    [Theory]
    [InlineData(100, 97.9, "bf16")]
    [InlineData(100, 98.1, "fp32")] // within 2 %: fp32, which rounds no product
    [InlineData(100, 150, "fp32")]
    public void Bf16_is_taken_when_over_two_percent_faster(double fp32Millis, double bf16Millis, string faster)
        =>
        Assert.Equal(faster, new PrecisionTiming(fp32Millis, bf16Millis, 5).Faster);

    [Fact]
    public void Timing_steps_trains_the_task_it_is_given()
    {
        manual_seed(4);
        using var data = new TokenBatches([.. Enumerable.Range(0, 2000).Select(i => i * 5 % 16)], 16, CPU);
        using var model = new Gpt(new GptConfig(16, 16, 1, 2, 16));
        using var before = model.parameters().First().clone();

        var millis = new Trainer(new TrainerOptions { BatchSize = 4 }).TimeSteps(new GptTraining(model, data, data),
            warmupSteps: 2, TimeSpan.Zero, minSteps: 3, TimeSpan.Zero, maxSteps: 10, CancellationToken.None);

        Assert.Equal(3, millis.Count);
        Assert.All(millis, m => Assert.True(m > 0));
        Assert.False(before.allclose(model.parameters().First()), "five steps left the weights alone");
    }
}
