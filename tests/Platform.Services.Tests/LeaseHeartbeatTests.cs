using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.Contracts;
using Training.Data;
using Training.Registry.Data;
using Training.Runs;

namespace Platform.Services.Tests;

/// <summary>
/// A worker's lease as it checks it before writing a checkpoint, against a real PostgreSQL (a database of its own,
/// dropped afterwards): a worker paused past its lease, whose run another worker took, writes nothing.
/// </summary>
public sealed class LeaseHeartbeatTests : IAsyncLifetime
{
    private static readonly string Server = Environment.GetEnvironmentVariable("PLATFORM_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=55432;Database=platform_test;Username=platform;Password=platform";
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private readonly string _database = "lease_" + Guid.NewGuid().ToString("N")[..8];
    private ServiceProvider _services = null!;

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    public async Task InitializeAsync()
    {
        await using (var server = new NpgsqlConnection(Server))
        {
            await server.OpenAsync();
            await new NpgsqlCommand($"CREATE DATABASE {_database}", server).ExecuteNonQueryAsync();
        }
        var connection = new NpgsqlConnectionStringBuilder(Server) { Database = _database, Pooling = false }
            .ConnectionString;
        _services = new ServiceCollection()
            .AddDbContext<TrainingDbContext>(o => o.UseNpgsql(connection,
                n => n.MigrationsHistoryTable("__ef_migrations_history", TrainingDbContext.Schema)))
            .AddDbContext<RegistryDbContext>(o => o.UseNpgsql(connection,
                n => n.MigrationsHistoryTable("__ef_migrations_history", RegistryDbContext.Schema)))
            .BuildServiceProvider();
        await using var scope = _services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Database.MigrateAsync();
        await scope.ServiceProvider.GetRequiredService<TrainingDbContext>().Database.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await using var server = new NpgsqlConnection(Server);
        await server.OpenAsync();
        await new NpgsqlCommand($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)", server).ExecuteNonQueryAsync();
    }

    private async Task<RunClaim> ClaimAsync(DateTimeOffset now)
    {
        await using var scope = _services.CreateAsyncScope();
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
        var scopes = _services.GetRequiredService<IServiceScopeFactory>();
        await using var heartbeat = new LeaseHeartbeat(scopes, claim, Lease, NullLogger.Instance, clock);
        Assert.True(heartbeat.Holds);

        // Paused (a long collection, a frozen VM) until a third of the lease is left: not sure any more, so it asks.
        clock.Now += Lease * 0.7;
        Assert.False(heartbeat.Holds);
        Assert.True(heartbeat.Confirm());   // still its own: renewed
        Assert.True(heartbeat.Holds);

        // Paused past the lease, and another worker took the run over meanwhile.
        clock.Now += Lease * 1.1;
        await using (var scope = _services.CreateAsyncScope())
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
        await using (var scope = _services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
            var queued = Run.Create(Guid.NewGuid(), new RunSpec { Name = "m" }, Guid.NewGuid(), null);
            queued.Queue();
            db.Runs.Add(queued);
            await db.SaveChangesAsync();
        }
        await using var worker = _services.CreateAsyncScope();
        var workerDb = worker.ServiceProvider.GetRequiredService<TrainingDbContext>();
        var (found, claim) = await RunClaims.ClaimNextAsync(workerDb, "worker-a", new TrainingOptions(),
            CancellationToken.None);
        Assert.True(found);
        Assert.Equal(RunState.Queued, claim!.Run.State);   // claimed, not started yet

        // The dataset's deletion reaches the run in this moment: it is still Queued, so it is deleted at once.
        await using (var scope = _services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
            var run = await db.Runs.SingleAsync(r => r.Id == claim.Run.Id);
            run.MarkDeleted();
            await db.SaveChangesAsync();
        }

        // The worker's start must not bring the deleted run back as Training.
        claim.Run.Start(0);
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => workerDb.SaveChangesAsync());
        await using (var scope = _services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
            Assert.Equal(RunState.Deleted, (await db.Runs.SingleAsync(r => r.Id == claim.Run.Id)).State);
        }
    }
}
