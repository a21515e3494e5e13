using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Platform.ServiceDefaults.Persistence;

public static class DatabaseExtensions
{
    public const string ConnectionStringName = "Platform";

    /// <summary>
    /// Registers the service's own DbContext on the shared PostgreSQL server, keeping its tables and
    /// migration history inside its own schema, and applies its migrations at start-up (in the order contexts are
    /// added). A module with a schema of its own in the same service (the model registry) names its own health check.
    /// </summary>
    public static IHostApplicationBuilder AddServiceDatabase<TContext>(this IHostApplicationBuilder builder,
        string schema,
        string healthCheck = "database")
        where TContext : DbContext
    {
        var connectionString = WithBoundedPool(builder.Configuration.GetConnectionString(ConnectionStringName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionStringName} is not configured."),
            builder.Configuration);
        builder.Services.AddDbContext<TContext>(o => o.UseNpgsql(connectionString,
            npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", schema)));
        builder.Services.AddHealthChecks().AddDbContextCheck<TContext>(healthCheck,
            tags: [ServiceDefaultsExtensions.ReadyTag]);
        builder.Services.AddHostedService<MigrateOnStart<TContext>>();
        return builder;
    }

    /// <summary>
    /// Six services share one PostgreSQL server: with Npgsql's default pool of 100 each, a burst of requests opened
    /// more connections than the server allows (max_connections 200) and answered 503. Each service's pool is bounded
    /// by Database:MaxPoolSize (25) unless the connection string sets its own; beyond it a request waits for a
    /// connection.
    /// </summary>
    private static string WithBoundedPool(string connectionString, IConfiguration configuration)
    {
        var settings = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var explicitPool = connectionString.Contains("Maximum Pool Size", StringComparison.OrdinalIgnoreCase)
                           || connectionString.Contains("MaxPoolSize", StringComparison.OrdinalIgnoreCase);
        if (!explicitPool)
            settings.MaxPoolSize = configuration.GetValue("Database:MaxPoolSize", 25);
        return settings.ConnectionString;
    }

    public static string GetPlatformConnectionString(this IConfiguration configuration) =>
        configuration.GetConnectionString(ConnectionStringName) ?? "";
}
