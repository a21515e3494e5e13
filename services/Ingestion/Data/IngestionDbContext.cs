using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Messaging;

namespace Ingestion.Data;

public sealed class IngestionDbContext(DbContextOptions<IngestionDbContext> options) : DbContext(options), IOutboxContext
{
    public const string Schema = "ingestion";

    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<Dataset>(e =>
        {
            e.ToTable("datasets");
            e.Property(d => d.State).HasConversion<string>().HasMaxLength(16);
            e.Property(d => d.Name).HasMaxLength(128);
            e.HasIndex(d => d.CreatedAt);
        });
        modelBuilder.ConfigureOutbox();
    }
}
