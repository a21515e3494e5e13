using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Contracts;
using Training.Data;
using Training.Registry.Data;
using Training.Runs;

namespace Platform.Services.Tests;

/// <summary>
/// A run added while its dataset's tokenization is announced, against a real PostgreSQL (a database of its own,
/// dropped afterwards): the auto-train consumer reads the dataset's projection before it takes the dataset's lock, and
/// DatasetTokenized can commit in between.
/// </summary>
public sealed class RunCreationRaceTests : IAsyncLifetime
{
    private static readonly string Server = Environment.GetEnvironmentVariable("PLATFORM_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=55432;Database=platform_test;Username=platform;Password=platform";
    private readonly string _database = "race_" + Guid.NewGuid().ToString("N")[..8];
    private ServiceProvider _services = null!;

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

    [Fact]
    public async Task A_run_added_on_a_projection_read_before_its_dataset_was_tokenized_is_queued_not_left_waiting()
    {
        var datasetId = Guid.NewGuid();
        await using var consumer = _services.CreateAsyncScope();
        var db = consumer.ServiceProvider.GetRequiredService<TrainingDbContext>();
        db.Datasets.Add(new KnownDataset
        {
            Id = datasetId,
            Name = "d",
            Status = DatasetStatus.Ingested,
            UpdatedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync();   // the consumer's projection, still tracked as Ingested

        // DatasetTokenized commits from another context (its consumer finds no waiting run to release yet).
        await using (var tokenized = _services.CreateAsyncScope())
        {
            var other = tokenized.ServiceProvider.GetRequiredService<TrainingDbContext>();
            var row = await other.Datasets.SingleAsync(d => d.Id == datasetId);
            (row.Status, row.TokenizerKey, row.VocabSize) = (DatasetStatus.Tokenized, "tokenizers/t/tokenizer.json",
                65);
            await other.SaveChangesAsync();
        }

        var creation = new RunCreation(db, null!, null!, null!, null!);
        await using var transaction = await db.Database.BeginTransactionAsync();
        var (run, refused) = await creation.AddAsync(
            new PreparedRun(new RunSpec { Name = "auto" }, datasetId, null, null, null), null, null,
            CancellationToken.None);
        Assert.Null(refused);
        await db.SaveChangesAsync();
        await transaction.CommitAsync();
        Assert.Equal(RunState.Queued, run!.State);
    }
}
