using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Messaging;

namespace Tokenization.Data;

public sealed class TokenizationDbContext(DbContextOptions<TokenizationDbContext> options) : DbContext(options), IOutboxContext
{
    public const string Schema = "tokenization";

    public DbSet<TokenizerRecord> Tokenizers => Set<TokenizerRecord>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<TokenizerRecord>(e =>
        {
            e.ToTable("tokenizers");
            // One tokenizer per dataset: a redelivered DatasetIngested cannot create a second.
            e.HasIndex(t => t.DatasetId).IsUnique();
        });
        modelBuilder.ConfigureOutbox();
    }
}
