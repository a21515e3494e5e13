using System.Diagnostics;
using Gateway.Data;
using Ingestion.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Training.Data;
using Training.Registry.Data;

namespace Platform.Services.Tests;

/// <summary>
/// The database roles of infra/db/roles.sql and infra/db/audit-lock.sql, applied with psql as the stack applies them:
/// each service migrates its own schemas as its own role, and no role can reach another's tables or rewrite the
/// audit log. Runs in a database of its own, with roles of their own, both dropped afterwards.
/// </summary>
public sealed class DatabaseRolesTests : IAsyncLifetime
{
    private static readonly string Server = Environment.GetEnvironmentVariable("PLATFORM_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=55432;Database=platform_test;Username=platform;Password=platform";
    private static readonly string[] Services =
        ["gateway", "ingestion", "tokenization", "training", "evaluation", "generation"];
    private readonly string _database = "roles_" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _prefix = "r" + Guid.NewGuid().ToString("N")[..8];

    private string As(string service) => new NpgsqlConnectionStringBuilder(Server)
    {
        Database = _database,
        Username = $"{_prefix}_{service}",
        Password = "pw-" + service,
        Pooling = false,
    }.ConnectionString;

    private string Superuser =>
        new NpgsqlConnectionStringBuilder(Server) { Database = _database, Pooling = false }.ConnectionString;

    public async Task InitializeAsync() => await SqlAsync(Server, $"CREATE DATABASE {_database}");

    public async Task DisposeAsync()
    {
        await SqlAsync(Server, $"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
        foreach (var role in Services.Append("audit"))
            await SqlAsync(Server, $"DROP ROLE IF EXISTS {_prefix}_{role}");
    }

    private static async Task SqlAsync(string connection, string sql)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs one of the stack's SQL files with psql as the superuser, as infra/services-up.sh does.</summary>
    private void Psql(string file, params string[] variables)
    {
        var server = new NpgsqlConnectionStringBuilder(Server);
        var psql = Path.Combine(Environment.GetEnvironmentVariable("PG_BIN") ?? "/usr/lib/postgresql/15/bin", "psql");
        var start = new ProcessStartInfo(psql,
            ["-h", server.Host!, "-p", server.Port.ToString(), "-U", server.Username!,
            "-d", _database, "-qX", "-v", $"prefix={_prefix}", "-v", $"db={_database}",
            .. variables.SelectMany(v => new[] { "-v", v }), "-f", Path.Combine(RepoRoot.Path, "infra", "db", file)])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.Environment["PGPASSWORD"] = server.Password;
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"psql -f {file}: {errors}");
    }

    private static async Task MigrateAsync<TContext>(string connection, string schema,
        Action<IServiceCollection>? more = null)
        where TContext : DbContext
    {
        var services = new ServiceCollection().AddLogging()
            .AddDbContext<TContext>(o =>
            o.UseNpgsql(connection, n => n.MigrationsHistoryTable("__ef_migrations_history", schema)));
        more?.Invoke(services);
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<TContext>().Database.MigrateAsync();
    }

    /// <summary>The SQLSTATE a statement ends with, as that role; null when it succeeds.</summary>
    private async Task<string?> RefusalAsync(string service, string sql)
    {
        try
        {
            await SqlAsync(As(service), sql);
            return null;
        }
        catch (PostgresException ex)
        {
            return ex.SqlState;
        }
    }

    [Fact]
    public async Task Each_service_migrates_its_own_schema_reaches_no_other_and_the_gateway_only_appends_to_the_audit()
    {
        Psql("roles.sql", [.. Services.Select(s => $"pw_{s}=pw-{s}")]);
        await MigrateAsync<AccessDbContext>(As("gateway"), AccessDbContext.Schema);
        await MigrateAsync<IngestionDbContext>(As("ingestion"), IngestionDbContext.Schema);
        await MigrateAsync<Tokenization.Data.TokenizationDbContext>(As("tokenization"), "tokenization");
        await MigrateAsync<RegistryDbContext>(As("training"), RegistryDbContext.Schema);
        await MigrateAsync<TrainingDbContext>(As("training"), TrainingDbContext.Schema);
        await MigrateAsync<Generation.Data.GenerationDbContext>(As("generation"), "generation");
        Psql("audit-lock.sql");

        // The gateway appends to and reads its log, and can do nothing else to it.
        Assert.Null(await RefusalAsync("gateway",
            "INSERT INTO gateway.audit_log (\"At\", \"KeyId\", \"KeyName\", \"Role\", " +
            "\"Method\", \"Path\", \"Status\", \"DurationMilliseconds\") VALUES (now(), gen_random_uuid(), 'k', " +
            "'admin', 'POST', '/x', 200, 1)"));
        Assert.Null(await RefusalAsync("gateway", "SELECT count(*) FROM gateway.audit_log"));
        const string denied = "42501";
        foreach (var sql in new[]
                 {
                     "UPDATE gateway.audit_log SET \"Status\" = 500", "DELETE FROM gateway.audit_log",
                         "TRUNCATE gateway.audit_log",
                     "ALTER TABLE gateway.audit_log DISABLE TRIGGER ALL", "DROP TABLE gateway.audit_log",
                 })
            Assert.True(await RefusalAsync("gateway", sql) == denied, $"the gateway may: {sql}");
        // Its own tables are its own.
        Assert.Null(await RefusalAsync("gateway", "SELECT count(*) FROM gateway.api_keys"));

        // No service reaches another's schema: not the keys, not the corpus records, not the runs.
        Assert.Equal(denied, await RefusalAsync("ingestion", "SELECT count(*) FROM gateway.api_keys"));
        Assert.Equal(denied,
            await RefusalAsync("ingestion", "INSERT INTO gateway.api_keys (\"Id\") VALUES (gen_random_uuid())"));
        Assert.Equal(denied, await RefusalAsync("ingestion", "ALTER TABLE gateway.audit_log DISABLE TRIGGER ALL"));
        Assert.Equal(denied, await RefusalAsync("training", "SELECT count(*) FROM ingestion.datasets"));
        Assert.Equal(denied, await RefusalAsync("generation", "SELECT count(*) FROM registry.model_versions"));
        Assert.Equal(denied, await RefusalAsync("gateway", "SELECT count(*) FROM training.runs"));
        Assert.Null(await RefusalAsync("training", "SELECT count(*) FROM registry.model_versions"));
        Assert.Equal(denied, await RefusalAsync("tokenization", "CREATE TABLE public.anything (id int)"));

        // Applied again (every start), and after the gateway migrated once more, nothing changes but the order.
        Psql("roles.sql", [.. Services.Select(s => $"pw_{s}=pw-{s}")]);
        await MigrateAsync<AccessDbContext>(As("gateway"), AccessDbContext.Schema);
        Psql("audit-lock.sql");
        Assert.Equal(denied, await RefusalAsync("gateway", "DELETE FROM gateway.audit_log"));
        Assert.Equal(1L, await CountAsync());
    }

    private async Task<long> CountAsync()
    {
        await using var db = new NpgsqlConnection(Superuser);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM gateway.audit_log", db);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
