using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Messaging;

namespace Training.Data;

public sealed class TrainingDbContext(DbContextOptions<TrainingDbContext> options) : DbContext(options), IOutboxContext
{
    public const string Schema = "training";

    public DbSet<Run> Runs => Set<Run>();
    public DbSet<MetricPoint> Metrics => Set<MetricPoint>();
    public DbSet<KnownDataset> Datasets => Set<KnownDataset>();
    public DbSet<ModelVersion> ModelVersions => Set<ModelVersion>();
    public DbSet<KnownEncoding> Encodings => Set<KnownEncoding>();
    public DbSet<VectorsFile> Vectors => Set<VectorsFile>();
    public DbSet<ModelAlias> ModelAliases => Set<ModelAlias>();
    public DbSet<ModelAliasMove> ModelAliasMoves => Set<ModelAliasMove>();
    public DbSet<PromotionGate> PromotionGates => Set<PromotionGate>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    /// <summary>Runs that have not been deleted: what every read sees.</summary>
    public IQueryable<Run> LiveRuns => Runs.Where(r => r.State != RunState.Deleted);

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<Run>(e =>
        {
            e.ToTable("runs");
            e.Property(r => r.State).HasConversion<string>().HasMaxLength(16);
            e.Property(r => r.Name).HasMaxLength(64);
            e.Property(r => r.OwnerName).HasMaxLength(64);
            e.HasIndex(r => r.OwnerId);
            e.OwnsOne(r => r.Spec, s =>
            {
                s.ToJson();
                s.OwnsOne(x => x.Model);
                s.OwnsOne(x => x.Training);
                s.OwnsOne(x => x.InitFrom);
                s.OwnsOne(x => x.FineTune);
            });
            e.Property(r => r.TokenizerKey).HasMaxLength(256);
            e.Property(r => r.BaseModel).HasMaxLength(128);
            e.HasIndex(r => r.DatasetId);
            e.HasIndex(r => r.State);
            e.Property(r => r.LeaseOwner).HasMaxLength(128);
            e.Property(r => r.LeaseToken).IsConcurrencyToken();
            e.Property(r => r.TraceParent).HasMaxLength(128);
            e.OwnsOne(r => r.Cost, c => c.ToJson());
        });
        modelBuilder.Entity<MetricPoint>(e =>
        {
            e.ToTable("metrics");
            e.Property(m => m.Key).HasMaxLength(64);
            e.HasIndex(m => new { m.RunId, m.Key, m.Step });
        });
        modelBuilder.Entity<KnownDataset>(e =>
        {
            e.ToTable("datasets");
            e.Property(d => d.Status).HasConversion<string>().HasMaxLength(16);
        });
        modelBuilder.Entity<KnownEncoding>(e =>
        {
            e.ToTable("encodings");
            e.HasKey(x => new { x.DatasetId, x.TokenizerKey });
            e.Property(x => x.TokenizerKey).HasMaxLength(256);
            e.Property(x => x.Status).HasConversion<string>().HasMaxLength(16);
        });
        modelBuilder.Entity<VectorsFile>(e =>
        {
            e.ToTable("vectors");
            e.Property(v => v.Name).HasMaxLength(128);
            e.Property(v => v.OwnerName).HasMaxLength(64);
        });
        modelBuilder.Entity<ModelVersion>(e =>
        {
            e.ToTable("model_versions");
            e.HasIndex(v => new { v.Name, v.Version }).IsUnique();
            // One version per run: a redelivered EvaluationCompleted cannot register a second.
            e.HasIndex(v => v.RunId).IsUnique();
            e.Property(v => v.OwnerName).HasMaxLength(64);
            e.OwnsOne(v => v.Evaluation, f => f.ToJson());
            e.OwnsOne(v => v.Cost, c => c.ToJson());
            e.Property(v => v.Description).HasMaxLength(4000);
            e.Property(v => v.Tags).HasDefaultValueSql("'{}'::text[]");
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
            e.Property(g => g.Requires).HasColumnType("jsonb").HasConversion(
                v => System.Text.Json.JsonSerializer.Serialize(v, (System.Text.Json.JsonSerializerOptions?)null),
                v => System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, GateBound>>(v, (System.Text.Json.JsonSerializerOptions?)null) ?? new(),
                new Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<Dictionary<string, GateBound>>(
                    (a, b) => a!.Count == b!.Count && a.All(p => b.ContainsKey(p.Key) && Equals(b[p.Key], p.Value)),
                    d => d.Aggregate(0, (h, p) => HashCode.Combine(h, p.Key, p.Value)),
                    d => new Dictionary<string, GateBound>(d)));
        });
        modelBuilder.Entity<Run>().Property(r => r.Note).HasMaxLength(4000);
        modelBuilder.Entity<Run>().Property(r => r.Tags).HasDefaultValueSql("'{}'::text[]");
        modelBuilder.ConfigureOutbox();
    }
}
