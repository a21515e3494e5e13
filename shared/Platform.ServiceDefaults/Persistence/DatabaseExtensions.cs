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
    /// migration history inside its own schema, and applies its migrations at start-up.
    /// </summary>
    public static IHostApplicationBuilder AddServiceDatabase<TContext>(this IHostApplicationBuilder builder, string schema)
        where TContext : DbContext
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionStringName} is not configured.");
        builder.Services.AddDbContext<TContext>(o => o.UseNpgsql(connectionString,
            npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", schema)));
        builder.Services.AddHealthChecks().AddDbContextCheck<TContext>("database", tags: [ServiceDefaultsExtensions.ReadyTag]);
        builder.Services.AddHostedService<MigrateOnStart<TContext>>();
        return builder;
    }

    public static string GetPlatformConnectionString(this IConfiguration configuration) =>
        configuration.GetConnectionString(ConnectionStringName) ?? "";
}
