using System.Text.Json;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Security;
using Platform.ServiceDefaults.Messaging;

namespace Ingestion.Data;

public sealed class IngestionDbContext(DbContextOptions<IngestionDbContext> options) : DbContext(options),
    IOutboxContext
{
    public const string Schema = "ingestion";

    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    /// <summary>Datasets that have not been deleted: what every read sees.</summary>
    public IQueryable<Dataset> LiveDatasets => Datasets.Where(d => d.State != DatasetState.Deleted);

    /// <summary>The live datasets <paramref name="caller"/> may read (see <see
    /// cref="DatasetReaches.Admits"/>).</summary>
    public IQueryable<Dataset> ReadableBy(Caller caller)
    {
        // DatasetReaches.Admits, as a query.
        if (caller.ReadsEverything)
            return LiveDatasets;
        var key = caller.KeyId;
        return LiveDatasets.Where(d => d.SharedWithEveryone || d.OwnerId == key || d.Readers.Contains(key));
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<Dataset>(e =>
        {
            e.ToTable("datasets");
            e.Property(d => d.State).HasConversion<string>().HasMaxLength(16);
            e.Property(d => d.Name).HasMaxLength(128);
            e.Property(d => d.OwnerName).HasMaxLength(64);
            e.Property(d => d.DeletedBy).HasMaxLength(64);
            e.OwnsOne(d => d.Redaction, r => r.ToJson());
            e.OwnsOne(d => d.Pairs, p => p.ToJson());
            // Written once at upload; the comparer compares documents, so EF sees no change where there is none.
            e.Property(d => d.Chat).HasColumnType("jsonb").HasConversion(
                c => JsonSerializer.Serialize(c, (JsonSerializerOptions?)null),
                json => JsonSerializer.Deserialize<ChatSummary>(json, (JsonSerializerOptions?)null),
                new ValueComparer<ChatSummary?>(
                    (a, b) => JsonSerializer.Serialize(a, (JsonSerializerOptions?)null)
                              == JsonSerializer.Serialize(b, (JsonSerializerOptions?)null),
                    c => JsonSerializer.Serialize(c, (JsonSerializerOptions?)null).GetHashCode(),
                    c => c == null ? null : JsonSerializer.Deserialize<ChatSummary>(
                        JsonSerializer.Serialize(c, (JsonSerializerOptions?)null), (JsonSerializerOptions?)null)));
            e.Property(d => d.Format).HasMaxLength(16).HasDefaultValue(Platform.Contracts.DatasetFormats.Text);
            e.HasIndex(d => d.CreatedAt);
            e.HasIndex(d => d.OwnerId);
        });
        modelBuilder.ConfigureOutbox();
    }
}
