using Platform.Contracts;
using Training.Data;

namespace Platform.Services.Tests;

/// <summary>A run's states change only by its own methods, and only along the documented transitions.</summary>
public class RunTransitionTests
{
    private static Run NewRun() =>
        Run.Create(Guid.NewGuid(), new RunSpec { Name = "m" }, Guid.NewGuid(), new Owner(Guid.NewGuid(), "alice"));

    [Fact]
    public void The_happy_path_goes_from_queued_to_completed()
    {
        var run = NewRun();
        run.WaitForData();
        run.Queue();
        run.Start(fromStep: 0);
        run.FinishTraining(1000, "runs/x/checkpoint.bin", new string('0', 64), 50);
        run.Complete(modelVersion: 3);
        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(3, run.ModelVersion);
        Assert.NotNull(run.FinishedAt);
        Assert.Equal("alice", run.OwnerName);
    }

    [Fact]
    public void A_run_in_epochs_counts_its_steps_once_before_it_starts()
    {
        var run = Run.Create(Guid.NewGuid(), new RunSpec { Name = "m", Training = new TrainingSpec { Epochs = 10 } },
            Guid.NewGuid(), null);
        Assert.Equal((2000, null, null), (run.MaxSteps, run.StepsPerEpoch, run.Epoch));
        run.PlanEpochs(53);
        Assert.Equal((530, 53, 1), (run.MaxSteps, run.StepsPerEpoch, run.Epoch));
        Assert.Throws<RunStateException>(() => run.PlanEpochs(53));
        // Resumed at step 106 (the end of epoch 2), the run is in its third epoch; its last one stays the tenth.
        run.Start(fromStep: 106);
        Assert.Equal(3, run.Epoch);
        run.FinishTraining(1000, "runs/x/checkpoint.bin", new string('0', 64), 530);
        Assert.Equal(10, run.Epoch);

        var inSteps = NewRun();
        Assert.Contains("steps, not epochs", Assert.Throws<RunStateException>(() => inSteps.PlanEpochs(5)).Message);
        var tooLong = Run.Create(Guid.NewGuid(),
            new RunSpec { Name = "m", Training = new TrainingSpec { Epochs = 10_000 } }, Guid.NewGuid(), null);
        Assert.Contains("more than 1,000,000 steps",
            Assert.Throws<RunStateException>(() => tooLong.PlanEpochs(101)).Message);
    }

    [Fact]
    public void Illegal_transitions_are_refused_with_the_state_named()
    {
        var run = NewRun();
        run.Queue();
        var ex = Assert.Throws<RunStateException>(() => run.Complete(1));
        Assert.Contains("Queued", ex.Message);
        Assert.Throws<RunStateException>(() => run.Resume());
        run.Start(0);
        Assert.Throws<RunStateException>(() => run.MarkDeleted());
        run.Fail("boom");
        Assert.Throws<RunStateException>(() => run.RequestCancel());
        Assert.Throws<RunStateException>(() => run.Fail("again"));
    }

    [Fact]
    public void Cancelling_a_waiting_run_is_immediate_and_a_training_one_waits_for_the_trainer()
    {
        var waiting = NewRun();
        waiting.WaitForData();
        waiting.RequestCancel();
        Assert.Equal(RunState.Cancelled, waiting.State);

        var training = NewRun();
        training.Queue();
        training.Start(0);
        training.RequestCancel();
        Assert.Equal(RunState.Training, training.State);
        Assert.True(training.CancelRequested);
        training.MarkCancelled();
        training.Resume();
        Assert.Equal(RunState.Queued, training.State);
        Assert.False(training.CancelRequested);
    }

    [Fact]
    public void A_training_run_is_deleted_only_once_it_has_stopped()
    {
        var run = NewRun();
        run.Queue();
        run.Start(0);
        run.RequestDeletion();
        Assert.True(run.DeleteRequested);
        Assert.True(run.CancelRequested);
        Assert.Equal(RunState.Training, run.State);
        run.MarkCancelled();
        run.MarkDeleted();
        Assert.True(run.IsDeleted);
        Assert.True(run.IsFinished);
    }
}
