using Platform.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Security;
using Platform.ServiceDefaults.Messaging;

namespace Evaluation.Data;

public sealed class EvaluationDbContext(DbContextOptions<EvaluationDbContext> options) : DbContext(options),
    IOutboxContext
{
    public const string Schema = "evaluation";

    public DbSet<EvaluationRecord> Evaluations => Set<EvaluationRecord>();
    public DbSet<DeletedRun> DeletedRuns => Set<DeletedRun>();
    public DbSet<KnownDataset> Datasets => Set<KnownDataset>();
    public DbSet<KnownModelVersion> ModelVersions => Set<KnownModelVersion>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<EvaluationRecord>(e =>
        {
            e.ToTable("evaluations");
            e.Property(x => x.State).HasConversion<string>().HasMaxLength(16);
            // One own evaluation per run: a redelivered TrainingCompleted re-announces it instead of scoring again.
            // Requested evaluations (with a dataset) of the run's version are any number.
            e.HasIndex(x => x.RunId).IsUnique().HasFilter("\"DatasetId\" IS NULL");
            e.HasIndex(x => new { x.State, x.CreatedAt });
            e.HasIndex(x => x.DatasetId);
            e.Property(x => x.TraceParent).HasMaxLength(128);
            e.Property(x => x.Figures).HasFiguresDocument();
        });
        modelBuilder.Entity<KnownDataset>(e =>
        {
            e.ToTable("datasets");
            e.Property(d => d.Format).HasMaxLength(16);
        });
        modelBuilder.Entity<KnownModelVersion>(e =>
        {
            e.ToTable("model_versions");
            e.HasKey(v => new { v.Name, v.Version });
            e.Property(v => v.Architecture).HasMaxLength(32);
        });
        modelBuilder.Entity<DeletedRun>(e =>
        {
            e.ToTable("deleted_runs");
            e.HasKey(d => d.RunId);
        });
        modelBuilder.ConfigureOutbox();
        modelBuilder.ConfigureProjectedAliases();
        modelBuilder.ConfigureDatasetReach();
    }
}
