using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Training.Data;
using Training.Registry.Data;

namespace Platform.Services.Tests;

/// <summary>
/// Training's and the registry's schemas, migrated, in a database of the test's own on the test PostgreSQL (dropped
/// afterwards), with their DbContexts in <see cref="Services"/>.
/// </summary>
public abstract class TrainingDatabase(string prefix) : IAsyncLifetime
{
    private static readonly string Server = Environment.GetEnvironmentVariable("PLATFORM_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=55432;Database=platform_test;Username=platform;Password=platform";
    private readonly string _database = prefix + "_" + Guid.NewGuid().ToString("N")[..8];

    protected ServiceProvider Services { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await using (var server = new NpgsqlConnection(Server))
        {
            await server.OpenAsync();
            await new NpgsqlCommand($"CREATE DATABASE {_database}", server).ExecuteNonQueryAsync();
        }
        var connection = new NpgsqlConnectionStringBuilder(Server) { Database = _database, Pooling = false }
            .ConnectionString;
        Services = new ServiceCollection()
            .AddDbContext<TrainingDbContext>(o => o.UseNpgsql(connection,
                n => n.MigrationsHistoryTable("__ef_migrations_history", TrainingDbContext.Schema)))
            .AddDbContext<RegistryDbContext>(o => o.UseNpgsql(connection,
                n => n.MigrationsHistoryTable("__ef_migrations_history", RegistryDbContext.Schema)))
            .BuildServiceProvider();
        await using var scope = Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Database.MigrateAsync();
        await scope.ServiceProvider.GetRequiredService<TrainingDbContext>().Database.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await Services.DisposeAsync();
        await using var server = new NpgsqlConnection(Server);
        await server.OpenAsync();
        await new NpgsqlCommand($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)", server).ExecuteNonQueryAsync();
    }
}
