using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Training.Data;
using Training.Registry.Data;

namespace Platform.Services.Tests;

/// <summary>
/// Upgrading an installation from before encoder-decoders (and before the registry had a schema of its own), in the
/// order the Training process starts: <see cref="TrainingSchemaBeforeRegistry"/>, then the registry's migrations, then
/// Training's. Runs in a database of its own on the test PostgreSQL, dropped afterwards.
/// </summary>
public sealed class RegistryUpgradeTests : IAsyncLifetime
{
    private static readonly string Server = Environment.GetEnvironmentVariable("PLATFORM_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=55432;Database=platform_test;Username=platform;Password=platform";
    private readonly string _database = "upgrade_" + Guid.NewGuid().ToString("N")[..8];
    private string Connection =>
        new NpgsqlConnectionStringBuilder(Server) { Database = _database, Pooling = false }.ConnectionString;

    public async Task InitializeAsync() => await SqlAsync(Server, $"CREATE DATABASE {_database}");

    public async Task DisposeAsync() => await SqlAsync(Server, $"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");

    private static async Task SqlAsync(string connection, string sql)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(string connection, string sql)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db);
        return await command.ExecuteScalarAsync();
    }

    [Fact]
    public async Task An_installation_from_before_encoder_decoders_upgrades_and_its_versions_move_into_the_registry()
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddDbContext<TrainingDbContext>(o =>
            o.UseNpgsql(Connection, n => n.MigrationsHistoryTable("__ef_migrations_history", TrainingDbContext.Schema)))
            .AddDbContext<RegistryDbContext>(o =>
            o.UseNpgsql(Connection, n => n.MigrationsHistoryTable("__ef_migrations_history", RegistryDbContext.Schema)))
            .BuildServiceProvider();
        await using (services)
        {
            // The release before encoder-decoders: model versions had no Architecture column yet.
            await using (var scope = services.CreateAsyncScope())
                await scope.ServiceProvider.GetRequiredService<TrainingDbContext>().Database.GetService<IMigrator>()
                    .MigrateAsync("20261130204321_RunAndVersionCost");
            var id = Guid.NewGuid();
            await SqlAsync(Connection,
                "INSERT INTO training.model_versions " +
                "(\"Id\",\"Name\",\"Version\",\"RunId\",\"DatasetId\",\"CheckpointKey\"," +
                "\"CheckpointSha256\",\"TokenizerKey\",\"CreatedAt\") " +
                $"VALUES ('{id}', 'old-model', 3, '{Guid.NewGuid()}', '{Guid.NewGuid()}', 'runs/x/model.pt', 'abc', " +
                $"'datasets/x/tokenizer.json', now())");
            // A name with two owners' versions belongs, after the upgrade, to the owner of its first.
            var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
            foreach (var (version, owner) in new[] { (2, second), (1, first) })
                await SqlAsync(Connection,
                    "INSERT INTO training.model_versions (\"Id\",\"Name\",\"Version\",\"RunId\",\"DatasetId\"," +
                    "\"OwnerId\",\"OwnerName\",\"CheckpointKey\",\"CheckpointSha256\",\"TokenizerKey\"," +
                    "\"CreatedAt\") " +
                    $"VALUES ('{Guid.NewGuid()}', 'shared-model', {version}, '{Guid.NewGuid()}', '{Guid.NewGuid()}', " +
                    $"'{owner}', 'k{version}', 'runs/y/model.pt', 'abc', 'datasets/y/tokenizer.json', now())");

            await new TrainingSchemaBeforeRegistry(services,
                services.GetRequiredService<ILogger<TrainingSchemaBeforeRegistry>>())
                .StartAsync(CancellationToken.None);
            // The release before sharing: a LoRA version rests on old-model v3.
            var (oldDataset, loraDataset) = (Guid.NewGuid(), Guid.NewGuid());
            await using (var scope = services.CreateAsyncScope())
                await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Database.GetService<IMigrator>()
                    .MigrateAsync("20261206185826_ModelNameOwners");
            await SqlAsync(Connection,
                $"UPDATE registry.model_versions SET \"DatasetId\" = '{oldDataset}' WHERE \"Id\" = '{id}'");
            await SqlAsync(Connection,
                "INSERT INTO registry.model_versions " +
                "(\"Id\",\"Name\",\"Version\",\"RunId\",\"DatasetId\",\"CheckpointKey\"," +
                "\"CheckpointSha256\",\"TokenizerKey\",\"Architecture\",\"BaseModel\",\"FineTuneMethod\"," +
                "\"Tags\",\"CreatedAt\") " +
                $"VALUES ('{Guid.NewGuid()}', 'old-lora', 1, '{Guid.NewGuid()}', '{loraDataset}', 'runs/z/model.pt', " +
                "'abc', 'datasets/x/tokenizer.json', 'gpt', 'old-model/versions/3', 'lora', '{}', now())");
            await using (var scope = services.CreateAsyncScope())
            {
                await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Database.MigrateAsync();
                await scope.ServiceProvider.GetRequiredService<TrainingDbContext>().Database.MigrateAsync();
            }
            // Each version learned from its run's dataset, and a fine-tune from its base's as well; all of them are
            // announced again at start.
            Assert.Equal(oldDataset.ToString(), await ScalarAsync(Connection,
                "SELECT array_to_string(\"Lineage\", ',') FROM registry.model_versions WHERE \"Name\" = 'old-model'"));
            Assert.Equal(string.Join(",", new[] { oldDataset, loraDataset }.Order()), await ScalarAsync(Connection,
                "SELECT array_to_string(ARRAY(SELECT unnest(\"Lineage\") ORDER BY 1), ',') FROM " +
                "registry.model_versions " +
                "WHERE \"Name\" = 'old-lora'"));
            Assert.Equal(0L, await ScalarAsync(Connection,
                "SELECT count(*) FROM registry.model_versions WHERE \"LineageAnnounced\""));

            Assert.Equal("old-model 3 gpt", await ScalarAsync(Connection,
                "SELECT \"Name\" || ' ' || \"Version\" || ' ' || \"Architecture\" FROM registry.model_versions " +
                $"WHERE \"Id\" = '{id}'"));
            Assert.Equal(true, await ScalarAsync(Connection, "SELECT to_regclass('training.model_versions') IS NULL"));
            Assert.Equal($"{first} k1", await ScalarAsync(Connection,
                "SELECT \"OwnerId\" || ' ' || \"OwnerName\" FROM registry.model_names " +
                "WHERE \"Name\" = 'shared-model'"));
            Assert.Equal(true, await ScalarAsync(Connection,
                "SELECT \"OwnerId\" IS NULL FROM registry.model_names WHERE \"Name\" = 'old-model'"));
        }
    }
}
