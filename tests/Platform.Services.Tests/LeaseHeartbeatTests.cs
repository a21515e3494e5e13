using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Platform.Services.Tests;

/// <summary>
/// A worker's lease as it checks it before writing a checkpoint, against a real PostgreSQL (a database of its own,
/// dropped afterwards): a worker paused past its lease, whose run another worker took, writes nothing.
/// </summary>
public sealed class LeaseHeartbeatTests() : TrainingDatabase("lease")
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private async Task<RunClaim> ClaimAsync(DateTimeOffset now)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
        var run = Run.Create(Guid.NewGuid(), new RunSpec { Name = "m" }, Guid.NewGuid(), null);
        run.Queue();
        run.Claim("worker-a", now, Lease, maxCrashes: 3);
        run.Start(0);
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        return new RunClaim(run, run.LeaseToken);
    }

    [Fact]
    public async Task A_lease_near_its_end_is_confirmed_by_renewing_it_and_one_another_worker_took_is_lost()
    {
        var clock = new Clock(DateTimeOffset.UtcNow);
        var claim = await ClaimAsync(clock.Now);
        var scopes = Services.GetRequiredService<IServiceScopeFactory>();
        await using var heartbeat = new LeaseHeartbeat(scopes, claim, Lease, NullLogger.Instance, clock);
        Assert.True(heartbeat.Holds);

        // Paused (a long collection, a frozen VM) until a third of the lease is left: not sure any more, so it asks.
        clock.Now += Lease * 0.7;
        Assert.False(heartbeat.Holds);
        Assert.True(heartbeat.Confirm());   // still its own: renewed
        Assert.True(heartbeat.Holds);

        // Paused past the lease, and another worker took the run over meanwhile.
        clock.Now += Lease * 1.1;
        await using (var scope = Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
            var run = await db.Runs.SingleAsync(r => r.Id == claim.Run.Id);
            Assert.True(run.Claim("worker-b", clock.Now, Lease, maxCrashes: 3));
            await db.SaveChangesAsync();
        }
        Assert.False(heartbeat.Holds);
        Assert.False(heartbeat.Confirm());
        Assert.True(heartbeat.Lost.IsCancellationRequested);
    }

    [Fact]
    public async Task A_run_deleted_after_a_worker_claimed_it_and_before_it_started_stays_deleted()
    {
        await using (var scope = Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
            var queued = Run.Create(Guid.NewGuid(), new RunSpec { Name = "m" }, Guid.NewGuid(), null);
            queued.Queue();
            db.Runs.Add(queued);
            await db.SaveChangesAsync();
        }
        await using var worker = Services.CreateAsyncScope();
        var workerDb = worker.ServiceProvider.GetRequiredService<TrainingDbContext>();
        var (found, claim) = await RunClaims.ClaimNextAsync(workerDb, "worker-a", new TrainingOptions(),
            CancellationToken.None);
        Assert.True(found);
        Assert.Equal(RunState.Queued, claim!.Run.State);   // claimed, not started yet

        // The dataset's deletion reaches the run in this moment: it is still Queued, so it is deleted at once.
        await using (var scope = Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
            var run = await db.Runs.SingleAsync(r => r.Id == claim.Run.Id);
            run.MarkDeleted();
            await db.SaveChangesAsync();
        }

        // The worker's start must not bring the deleted run back as Training.
        claim.Run.Start(0);
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => workerDb.SaveChangesAsync());
        await using (var scope = Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
            Assert.Equal(RunState.Deleted, (await db.Runs.SingleAsync(r => r.Id == claim.Run.Id)).State);
        }
    }
}
