using Platform.Contracts;
using Training.Data;

namespace Platform.Services.Tests;

/// <summary>A worker's claim on a run: fencing tokens, expiry, the crash count and the crash limit.</summary>
public class RunLeaseTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static Run QueuedRun()
    {
        var run = Run.Create(Guid.NewGuid(), new RunSpec { Name = "m" }, Guid.NewGuid(), null);
        run.Queue();
        return run;
    }

    [Fact]
    public void A_queued_run_is_claimed_with_a_new_fencing_token_and_is_held_until_the_lease_expires()
    {
        var run = QueuedRun();
        Assert.True(run.IsClaimable(T0));
        Assert.True(run.Claim("a", T0, Lease, maxCrashes: 3));
        run.Start(0);
        Assert.Equal(("a", 1L, T0 + Lease), (run.LeaseOwner, run.LeaseToken, run.LeaseExpiresAt));

        Assert.False(run.IsClaimable(T0 + Lease - TimeSpan.FromSeconds(1)));
        Assert.Throws<RunStateException>(() => run.Claim("b", T0 + TimeSpan.FromSeconds(1), Lease, 3));
        Assert.Equal(0, run.Crashes);
    }

    [Fact]
    public void Cancelling_a_claimed_run_that_has_not_started_raises_the_token_so_its_worker_cannot_start_it()
    {
        var run = QueuedRun();
        run.Claim("a", T0, Lease, 3);
        var claimed = run.LeaseToken;
        run.RequestCancel();   // still Queued: the worker has not called Start yet
        Assert.Equal(RunState.Cancelled, run.State);
        Assert.NotEqual(claimed, run.LeaseToken);

        // A training run keeps its worker's token: the worker sees CancelRequested and stops by itself.
        var training = QueuedRun();
        training.Claim("a", T0, Lease, 3);
        training.Start(0);
        training.RequestCancel();
        Assert.Equal((RunState.Training, 1L), (training.State, training.LeaseToken));
    }

    [Fact]
    public void Taking_over_an_expired_lease_counts_a_crash_and_raises_the_token()
    {
        var run = QueuedRun();
        run.Claim("a", T0, Lease, 3);
        run.Start(0);
        var later = T0 + Lease + TimeSpan.FromSeconds(1);
        Assert.True(run.IsClaimable(later));
        Assert.True(run.Claim("b", later, Lease, 3));
        Assert.Equal(("b", 2L, 1), (run.LeaseOwner, run.LeaseToken, run.Crashes));
        Assert.Equal(RunState.Training, run.State);
    }

    [Fact]
    public void At_the_crash_limit_the_run_fails_with_the_count_the_step_and_the_last_holder()
    {
        var run = QueuedRun();
        var now = T0;
        run.Claim("w0", now, Lease, 3);
        run.Start(0);
        run.RecordProgress(new Training.Runs.RunProgressSnapshot { Step = 40 });
        for (var crash = 1; crash <= 2; crash++)
        {
            now += Lease + TimeSpan.FromSeconds(1);
            Assert.True(run.Claim($"w{crash}", now, Lease, 3));
        }
        now += Lease + TimeSpan.FromSeconds(1);
        Assert.False(run.Claim("w3", now, Lease, 3));
        Assert.Equal(RunState.Failed, run.State);
        Assert.Equal(3, run.Crashes);
        Assert.StartsWith("Training crashed 3 times at step 40; last error: worker w2 stopped renewing its lease",
            run.FailureReason);
        Assert.Null(run.LeaseOwner);
        Assert.False(run.IsClaimable(now + Lease * 10));
    }

    [Fact]
    public void Leaving_training_releases_the_lease_and_a_resume_forgets_the_crashes()
    {
        var run = QueuedRun();
        run.Claim("a", T0, Lease, 3);
        run.Start(0);
        run.Requeue();
        Assert.Equal((RunState.Queued, null, null), (run.State, run.LeaseOwner, run.LeaseExpiresAt));
        Assert.True(run.Claim("b", T0, Lease, 3));
        Assert.Equal(0, run.Crashes);
        run.Start(0);
        run.Claim("c", T0 + Lease * 2, Lease, 3);
        run.Fail("stopped");
        run.Resume();
        Assert.Equal(0, run.Crashes);
        Assert.Equal(RunState.Queued, run.State);
    }
}
