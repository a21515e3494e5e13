using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Contracts;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Security;

namespace Training.Registry.Data;

/// <summary>
/// The model registry's own schema: names and their owners, versions, aliases with their history, promotion gates, the
/// registration candidates it assembles from events, and its own outbox. Nothing outside the registry module reads
/// these tables; the Training side asks <see cref="ModelRegistry"/>.
/// </summary>
public sealed class RegistryDbContext(DbContextOptions<RegistryDbContext> options) : DbContext(options), IOutboxContext
{
    public const string Schema = "registry";

    public DbSet<ModelVersion> ModelVersions => Set<ModelVersion>();
    public DbSet<DatasetReach> DatasetReach => Set<DatasetReach>();

    /// <summary>
    /// The versions <paramref name="caller"/> may read and use: those whose lineage it may read all of (an import,
    /// learned from no dataset here, is everyone's).
    /// </summary>
    public async Task<IQueryable<ModelVersion>> ReadableVersionsAsync(Caller caller,
        CancellationToken cancellationToken) =>
        await this.ReadableByAsync(caller, cancellationToken) is { } readable
            ? ModelVersions.Where(v => v.Lineage.All(d => readable.Contains(d)))
            : ModelVersions;
    public DbSet<ModelName> ModelNames => Set<ModelName>();
    public DbSet<ModelAlias> ModelAliases => Set<ModelAlias>();
    public DbSet<ModelAliasMove> ModelAliasMoves => Set<ModelAliasMove>();
    public DbSet<PromotionGate> PromotionGates => Set<PromotionGate>();
    public DbSet<RegistrationCandidate> Candidates => Set<RegistrationCandidate>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<ModelVersion>(e =>
        {
            e.ToTable("model_versions");
            e.HasIndex(v => new { v.Name, v.Version }).IsUnique();
            // One version per run: a redelivered EvaluationCompleted cannot register a second.
            e.HasIndex(v => v.RunId).IsUnique();
            e.Property(v => v.OwnerName).HasMaxLength(64);
            e.Property(v => v.Evaluation).HasFiguresDocument();
            e.OwnsOne(v => v.Cost, c => c.ToJson());
            e.Property(v => v.Provenance).HasProvenanceDocument();
            e.Property(v => v.Description).HasMaxLength(4000);
            e.Property(v => v.Tags).HasDefaultValueSql("'{}'::text[]");
        });
        modelBuilder.Entity<ModelName>(e =>
        {
            e.ToTable("model_names");
            e.HasKey(n => n.Name);
            e.Property(n => n.OwnerName).HasMaxLength(64);
            e.Property(n => n.Editors).HasDefaultValueSql("'{}'::uuid[]");
        });
        modelBuilder.HasSequence<long>(ModelAliasMove.Sequence);
        modelBuilder.Entity<ModelAlias>(e =>
        {
            e.ToTable("model_aliases");
            e.HasKey(a => new { a.Name, a.Alias });
            e.Property(a => a.Alias).HasMaxLength(40);
            e.Property(a => a.UpdatedBy).HasMaxLength(64);
        });
        modelBuilder.Entity<ModelAliasMove>(e =>
        {
            e.ToTable("model_alias_moves");
            // Ids come from the sequence before the insert: the ModelAliasMoved event carries the id as its ordering.
            e.Property(m => m.Id).ValueGeneratedNever();
            e.Property(m => m.Alias).HasMaxLength(40);
            e.Property(m => m.By).HasMaxLength(64);
            e.HasIndex(m => new { m.Name, m.Alias });
        });
        modelBuilder.Entity<PromotionGate>(e =>
        {
            e.ToTable("promotion_gates");
            e.HasKey(g => new { g.Name, g.Alias });
            e.Property(g => g.Alias).HasMaxLength(40);
            e.Property(g => g.UpdatedBy).HasMaxLength(64);
            e.Property(g => g.Requires).HasJsonbDictionary();
        });
        modelBuilder.Entity<RegistrationCandidate>(e =>
        {
            e.ToTable("registration_candidates");
            e.HasKey(c => c.RunId);
            e.Property(c => c.State).HasConversion<string>().HasMaxLength(16);
            e.Property(c => c.Name).HasMaxLength(64);
            e.Property(c => c.OwnerName).HasMaxLength(64);
            e.OwnsOne(c => c.Cost, c => c.ToJson());
            e.Property(c => c.Provenance).HasProvenanceDocument();
            e.Property(c => c.Evaluation).HasFiguresDocument();
        });
        modelBuilder.ConfigureDatasetReach();
        modelBuilder.ConfigureOutbox();
    }
}

internal static class ProvenanceColumn
{
    /// <summary>A version's provenance as one jsonb document, in the API's own JSON (camelCase): it is written once and
    /// only ever read whole.</summary>
    public static PropertyBuilder<TrainingProvenance?> HasProvenanceDocument(
        this PropertyBuilder<TrainingProvenance?> p) =>
        p.HasColumnType("jsonb").HasConversion(
            v => System.Text.Json.JsonSerializer.Serialize(v, System.Text.Json.JsonSerializerOptions.Web),
            json => System.Text.Json.JsonSerializer.Deserialize<TrainingProvenance>(json,
                System.Text.Json.JsonSerializerOptions.Web));
}
