using Platform.ML;

namespace Platform.ML.Tests;

public class LearningRateScheduleTests
{
    private static readonly LearningRateSchedule Schedule = new(PeakRate: 1e-3, MinRate: 1e-4, WarmupSteps: 100,
        DecaySteps: 2000);

    [Fact]
    public void Warmup_rises_linearly_to_the_peak()
    {
        Assert.Equal(1e-3 * 1 / 101, Schedule.At(0), 12);
        Assert.Equal(1e-3 * 50 / 101, Schedule.At(49), 12);
        Assert.Equal(1e-3 * 100 / 101, Schedule.At(99), 12);
    }

    [Fact]
    public void Decay_starts_at_the_peak_passes_the_midpoint_and_ends_at_the_floor()
    {
        Assert.Equal(1e-3, Schedule.At(100), 12);
        Assert.Equal((1e-3 + 1e-4) / 2, Schedule.At(1050), 12);
        Assert.Equal(1e-4, Schedule.At(2000), 12);
        Assert.Equal(1e-4, Schedule.At(5000), 12);
    }

    [Fact]
    public void Decay_is_monotonic()
    {
        for (var step = 101; step <= 2000; step++)
            Assert.True(Schedule.At(step) <= Schedule.At(step - 1));
    }

    [Fact]
    public void A_run_spec_and_the_trainer_share_one_set_of_defaults_and_the_floor_follows_the_learning_rate()
    {
        // The spec's defaults are the trainer's: a run that says nothing trains as the trainer would by default.
        Assert.Equal(new TrainerOptions(), TrainerOptions.From(new Platform.Contracts.TrainingSpec(), logInterval: 10));

        // No floor given: a tenth of the learning rate, at the end of the cosine decay (nanoGPT's min_lr = lr / 10).
        var options = TrainerOptions.From(new Platform.Contracts.TrainingSpec { LearningRate = 3e-3, MaxSteps = 500 },
            10);
        Assert.Equal(3e-4, options.Schedule.At(500), 12);
        // Warm-up longer than the run is cut to the run.
        var shortRun = new TrainerOptions { LearningRate = 1e-3, WarmupSteps = 100, MaxSteps = 40 };
        Assert.Equal(40, shortRun.Schedule.WarmupSteps);
    }
}

