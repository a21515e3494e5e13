using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.ServiceDefaults.Persistence;

namespace Platform.Services.Tests;

/// <summary>
/// <see cref="ConflictRetry"/> against a real PostgreSQL (the test database infra/test.sh starts) and a real Kestrel:
/// a background writer changes the row between the handler's read and its save, as a training worker's claim does
/// to a run a user is cancelling. The table lives in a schema of its own, made for each test and dropped after it.
/// </summary>
public sealed class ConflictRetryTests : IAsyncLifetime
{
    private static readonly string Connection = Environment.GetEnvironmentVariable("PLATFORM_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=55432;Database=platform_test;Username=platform;Password=platform";
    // One name per test run: EF Core caches a context type's model, schema included, for the life of the process.
    private static readonly string Schema = "conflict_retry_" + Guid.NewGuid().ToString("N")[..8];
    private readonly Guid _accountId = Guid.NewGuid();

    public async Task InitializeAsync() => await SqlAsync(
        $"CREATE SCHEMA {Schema}; CREATE TABLE {Schema}.accounts (id uuid PRIMARY KEY, balance integer NOT NULL, " +
        $"token bigint NOT NULL);" +
        $"INSERT INTO {Schema}.accounts VALUES ('{_accountId}', 0, 0);");

    public async Task DisposeAsync() => await SqlAsync($"DROP SCHEMA {Schema} CASCADE;");

    [Fact]
    public async Task A_change_that_meets_a_concurrent_write_is_made_again_on_a_fresh_read_and_neither_write_is_lost()
    {
        var attempts = 0;
        await using var app = await StartAsync(async () =>
        {
            // The background writer wins the race once, on the first attempt only.
            if (++attempts == 1)
                await SqlAsync($"UPDATE {Schema}.accounts SET balance = balance + 100, token = token + 1 WHERE id = " +
                    $"'{_accountId}';");
        });
        using var client = new HttpClient { BaseAddress = app.Address };

        var response = await client.PostAsJsonAsync($"/accounts/{_accountId}/deposits", new Deposit(5));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, attempts);
        // 100 from the writer + 5 from the request: a lost update would leave 5, a plain 409 would leave 100.
        Assert.Equal(105, await response.Content.ReadFromJsonAsync<int>());
        Assert.Equal(105, await BalanceAsync());
    }

    [Fact]
    public async Task A_change_that_loses_every_attempt_is_a_409_problem_and_only_the_winning_writes_are_stored()
    {
        var attempts = 0;
        await using var app = await StartAsync(async () =>
        {
            attempts++;
            await SqlAsync($"UPDATE {Schema}.accounts SET balance = balance + 100, token = token + 1 WHERE id = " +
                $"'{_accountId}';");
        });
        using var client = new HttpClient { BaseAddress = app.Address };

        var response = await client.PostAsJsonAsync($"/accounts/{_accountId}/deposits", new Deposit(5));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(ConflictRetry.Attempts, attempts);
        Assert.Equal(100 * ConflictRetry.Attempts, await BalanceAsync());
    }

    private sealed record Deposit(int Amount);

    private sealed class Account
    {
        public Guid Id { get; set; }
        public int Balance { get; set; }
        public long Token { get; set; }
    }

    private sealed class LedgerContext(DbContextOptions<LedgerContext> options, string schema) : DbContext(options)
    {
        public DbSet<Account> Accounts => Set<Account>();

        protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.Entity<Account>(e =>
        {
            e.ToTable("accounts", schema);
            e.Property(a => a.Id).HasColumnName("id");
            e.Property(a => a.Balance).HasColumnName("balance");
            e.Property(a => a.Token).HasColumnName("token").IsConcurrencyToken();
        });
    }

    private sealed class RunningApp(WebApplication app, Uri address) : IAsyncDisposable
    {
        public Uri Address => address;
        public ValueTask DisposeAsync() => app.DisposeAsync();
    }

    /// <summary>POST /accounts/{id}/deposits reads the body and the row, lets <paramref name="between"/> write, then
    /// saves the deposit.</summary>
    private async Task<RunningApp> StartAsync(Func<Task> between)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var schema = Schema;
        builder.Services.AddScoped(_ =>
            new LedgerContext(new DbContextOptionsBuilder<LedgerContext>().UseNpgsql(Connection).Options, schema));
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<DatabaseExceptionHandler>();
        var app = builder.Build();
        app.UseExceptionHandler();
        // The handler reads the body itself, as the platform's handlers do, so a retry must find it rewound.
        app.MapPost("/accounts/{id:guid}/deposits", async (Guid id, HttpContext http, LedgerContext db) =>
        {
            var deposit = (await http.Request.ReadFromJsonAsync<Deposit>())!;
            var account = await db.Accounts.SingleAsync(a => a.Id == id);
            await between();
            account.Balance += deposit.Amount;
            await db.SaveChangesAsync();
            return Results.Ok(account.Balance);
        }).RetriedOnConflict<LedgerContext>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>(
            )!.Addresses.First();
        return new RunningApp(app, new Uri(address));
    }

    private async Task<int> BalanceAsync()
    {
        await using var connection = new NpgsqlConnection(Connection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT balance FROM {Schema}.accounts WHERE id = '{_accountId}'",
            connection);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private static async Task SqlAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Connection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
