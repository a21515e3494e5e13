using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Contracts;
using Training.Consumers;
using Training.Data;
using Training.Runs;

namespace Platform.Services.Tests;

/// <summary>
/// A run changed by two hands at once, against a real PostgreSQL (a database of its own, dropped afterwards): a worker
/// starting it, and a cancel or a dataset's deletion.
/// </summary>
public sealed class RunRaceTests() : TrainingDatabase("run_race")
{
    /// <summary>The worker has claimed the run, and its start is committing when DatasetDeleted is handled.</summary>
    [Fact]
    public async Task A_run_a_worker_starts_while_its_dataset_is_deleted_is_stopped_by_the_worker_not_marked_deleted()
    {
        var (datasetId, runId) = await QueuedRunAsync();

        // The worker claims the run, then starts it in a transaction that has written but not yet committed.
        await using var worker = Services.CreateAsyncScope();
        var workerDb = worker.ServiceProvider.GetRequiredService<TrainingDbContext>();
        var (_, claim) = await RunClaims.ClaimNextAsync(workerDb, "worker", new TrainingOptions(),
            CancellationToken.None);
        Assert.Equal(runId, claim!.Run.Id);
        var start = await workerDb.Database.BeginTransactionAsync();
        claim.Run.Start(0);
        await workerDb.SaveChangesAsync();

        // DatasetDeleted, with the run among those its deleter agreed to delete, arrives meanwhile.
        await using var consumer = Services.CreateAsyncScope();
        var consumerDb = consumer.ServiceProvider.GetRequiredService<TrainingDbContext>();
        var deletedConsumer = new DatasetDeletedConsumer(consumerDb,
            new RunDeletion(consumerDb, null!, NullLogger<RunDeletion>.Instance),
            NullLogger<DatasetDeletedConsumer>.Instance);
        var settling = deletedConsumer.SettleRunsAsync(new DatasetDeleted(datasetId, Cascade: true,
            new Owner(Guid.NewGuid(), "deleter"), DateTimeOffset.UtcNow)
        { Runs = [runId] }, CancellationToken.None);
        await WaitUntilABackendWaitsForALockAsync(settling);
        await start.CommitAsync();
        var deletedNow = await settling;

        // The run trains: it is only marked, and its worker deletes it when it has stopped.
        Assert.Empty(deletedNow);
        await using var check = Services.CreateAsyncScope();
        var saved = await check.ServiceProvider.GetRequiredService<TrainingDbContext>().Runs.AsNoTracking()
            .SingleAsync(r => r.Id == runId);
        Assert.Equal((RunState.Training, true, true), (saved.State, saved.DeleteRequested, saved.CancelRequested));
        Assert.Equal(claim.LeaseToken, saved.LeaseToken);
    }

    /// <summary>A cancel decided on the run as Queued, saved after a worker started it, is refused as a conflict (the
    /// API then reads the run again and cancels it as Training), not written over the start.</summary>
    [Fact]
    public async Task A_cancel_decided_on_a_queued_run_that_a_worker_started_meanwhile_is_a_conflict()
    {
        var (_, runId) = await QueuedRunAsync();
        await using var worker = Services.CreateAsyncScope();
        var workerDb = worker.ServiceProvider.GetRequiredService<TrainingDbContext>();
        var (_, claim) = await RunClaims.ClaimNextAsync(workerDb, "worker", new TrainingOptions(),
            CancellationToken.None);
        // Read after the claim (same lease token) and before the start.
        await using var user = Services.CreateAsyncScope();
        var userDb = user.ServiceProvider.GetRequiredService<TrainingDbContext>();
        var read = await userDb.Runs.SingleAsync(r => r.Id == runId);
        Assert.Equal((RunState.Queued, claim!.LeaseToken), (read.State, read.LeaseToken));
        claim.Run.Start(0);
        await workerDb.SaveChangesAsync();

        read.RequestCancel();
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => userDb.SaveChangesAsync());

        userDb.ChangeTracker.Clear();
        var again = await userDb.Runs.SingleAsync(r => r.Id == runId);
        again.RequestCancel();
        await userDb.SaveChangesAsync();
        Assert.Equal((RunState.Training, true), (again.State, again.CancelRequested));
    }

    private async Task<(Guid DatasetId, Guid RunId)> QueuedRunAsync()
    {
        await using var setup = Services.CreateAsyncScope();
        var db = setup.ServiceProvider.GetRequiredService<TrainingDbContext>();
        var datasetId = Guid.NewGuid();
        db.Datasets.Add(new KnownDataset
        {
            Id = datasetId,
            Name = "d",
            Status = DatasetStatus.Tokenized,
            UpdatedAt = DateTimeOffset.UtcNow,
        });
        var run = Run.Create(Guid.NewGuid(), new RunSpec { Name = "r" }, datasetId, null);
        run.Queue();
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        return (datasetId, run.Id);
    }

    /// <summary>Until the consumer's transaction waits on the row the worker's uncommitted start holds (asked on a
    /// connection of its own: inside a transaction, PostgreSQL answers pg_stat_activity from its first look).</summary>
    private async Task WaitUntilABackendWaitsForALockAsync(Task settling)
    {
        await using var observer = Services.CreateAsyncScope();
        var db = observer.ServiceProvider.GetRequiredService<TrainingDbContext>();
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(20))
        {
            var waiting = await db.Database.SqlQuery<int>($"""
                SELECT count(*)::int AS "Value" FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock'
                """).SingleAsync();
            if (waiting > 0)
                return;
            if (settling.IsCompleted)
                await settling;
        }
        Assert.Fail("The consumer never waited for the worker's row lock.");
    }
}
