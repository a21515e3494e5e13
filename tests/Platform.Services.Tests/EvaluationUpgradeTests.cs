using Evaluation.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace Platform.Services.Tests;

/// <summary>
/// Upgrading Evaluation's schema from the release that kept each figure in a column of its own to the figures
/// document, and back. Runs in a database of its own on the test PostgreSQL, dropped afterwards.
/// </summary>
public sealed class EvaluationUpgradeTests : IAsyncLifetime
{
    private const string ColumnsRelease = "20261207021831_OneEvaluationWorker";
    private static readonly string Server = Environment.GetEnvironmentVariable("PLATFORM_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=55432;Database=platform_test;Username=platform;Password=platform";
    private readonly string _database = "upgrade_" + Guid.NewGuid().ToString("N")[..8];
    private string Connection =>
        new NpgsqlConnectionStringBuilder(Server) { Database = _database, Pooling = false }.ConnectionString;

    public async Task InitializeAsync() => await SqlAsync(Server, $"CREATE DATABASE {_database}");

    public async Task DisposeAsync() => await SqlAsync(Server, $"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");

    private static async Task<object?> SqlAsync(string connection, string sql)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db);
        return await command.ExecuteScalarAsync();
    }

    private EvaluationDbContext Context() => new(new DbContextOptionsBuilder<EvaluationDbContext>()
        .UseNpgsql(Connection, n => n.MigrationsHistoryTable("__ef_migrations_history", EvaluationDbContext.Schema))
        .Options);

    private async Task InsertAsync(Guid id, string state, string figures) => await SqlAsync(Connection,
        "INSERT INTO evaluation.evaluations (\"Id\",\"RunId\",\"ModelName\",\"State\",\"CheckpointKey\"," +
        "\"Architecture\",\"DurationMilliseconds\",\"CreatedAt\",\"Loss\",\"Perplexity\",\"TokensEvaluated\"," +
        "\"Bleu\",\"BleuTokenize\",\"ChrF\",\"ExactMatch\",\"PairsEvaluated\") " +
        $"VALUES ('{id}', '{Guid.NewGuid()}', 'm', '{state}', 'runs/x/model.pt', 'gpt', 5, now(), {figures})");

    [Fact]
    public async Task Every_figure_in_its_own_column_moves_into_the_document_and_back_with_nothing_lost()
    {
        await using (var db = Context())
            await db.Database.GetService<IMigrator>().MigrateAsync(ColumnsRelease);
        var (text, pairs, diverged, failed) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await InsertAsync(text, "Completed", "1.5, 4.4817, 900, NULL, NULL, NULL, NULL, NULL");
        await InsertAsync(pairs, "Completed", "0.25, 1.284, 3000, 55.5, 'zh', 71.25, 0.9, 400");
        await InsertAsync(diverged, "Completed", "'NaN', 'Infinity', 900, NULL, NULL, NULL, NULL, NULL");
        await InsertAsync(failed, "Failed", "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL");

        await using (var db = Context())
        {
            await db.Database.MigrateAsync();
            var read = await db.Evaluations.AsNoTracking().ToDictionaryAsync(e => e.Id, e => e.Figures);
            Assert.Equal(new Dictionary<string, double>
            {
                ["loss"] = 1.5,
                ["perplexity"] = 4.4817,
                ["tokensEvaluated"] = 900
            }, read[text]!.Metrics);
            Assert.Empty(read[text]!.Notes);
            Assert.Equal(new Dictionary<string, double>
            {
                ["loss"] = 0.25,
                ["perplexity"] = 1.284,
                ["tokensEvaluated"] = 3000,
                ["bleu"] = 55.5,
                ["chrF"] = 71.25,
                ["exactMatch"] = 0.9,
                ["pairsEvaluated"] = 400
            }, read[pairs]!.Metrics);
            Assert.Equal("zh", read[pairs]!.Notes["bleuTokenize"]);
            // JSON has no NaN or infinity: a diverged run's loss is no figure, its count still is.
            Assert.Equal(new Dictionary<string, double> { ["tokensEvaluated"] = 900 }, read[diverged]!.Metrics);
            Assert.Null(read[failed]);
        }

        await using (var db = Context())
            await db.Database.GetService<IMigrator>().MigrateAsync(ColumnsRelease);
        Assert.Equal("0.25 3000 55.5 zh 71.25 0.9 400", await SqlAsync(Connection,
            "SELECT concat_ws(' ', \"Loss\", \"TokensEvaluated\", \"Bleu\", \"BleuTokenize\", \"ChrF\", " +
            $"\"ExactMatch\", \"PairsEvaluated\") FROM evaluation.evaluations WHERE \"Id\" = '{pairs}'"));
    }
}
