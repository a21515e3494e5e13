using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Security;

namespace Tokenization.Data;

public sealed class TokenizationDbContext(DbContextOptions<TokenizationDbContext> options) : DbContext(options),
    IOutboxContext
{
    public const string Schema = "tokenization";

    public DbSet<TokenizerRecord> Tokenizers => Set<TokenizerRecord>();
    public DbSet<DeletedDataset> DeletedDatasets => Set<DeletedDataset>();
    public DbSet<DatasetEncoding> Encodings => Set<DatasetEncoding>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();
    public DbSet<DatasetReach> DatasetReach => Set<DatasetReach>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<TokenizerRecord>(e =>
        {
            e.ToTable("tokenizers");
            // One tokenizer per dataset: a redelivered DatasetIngested cannot create a second.
            e.HasIndex(t => t.DatasetId).IsUnique();
            e.Property(t => t.OwnerName).HasMaxLength(64);
            e.HasIndex(t => t.OwnerId);
        });
        modelBuilder.Entity<DatasetEncoding>(e =>
        {
            e.ToTable("encodings");
            // One encoding per dataset and tokenizers: a repeated request announces the one that exists.
            e.HasIndex(x => new { x.DatasetId, x.TokenizerKey, x.SourceTokenizerKey }).IsUnique();
            e.Property(x => x.TokenizerKey).HasMaxLength(256);
            e.Property(x => x.SourceTokenizerKey).HasMaxLength(256).HasDefaultValue("");
        });
        modelBuilder.Entity<DeletedDataset>(e =>
        {
            e.ToTable("deleted_datasets");
            e.HasKey(d => d.DatasetId);
        });
        modelBuilder.ConfigureDatasetReach();
        modelBuilder.ConfigureOutbox();
    }
}
