using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Messaging;

namespace Evaluation.Data;

public sealed class EvaluationDbContext(DbContextOptions<EvaluationDbContext> options) : DbContext(options), IOutboxContext
{
    public const string Schema = "evaluation";

    public DbSet<EvaluationRecord> Evaluations => Set<EvaluationRecord>();
    public DbSet<DeletedRun> DeletedRuns => Set<DeletedRun>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<EvaluationRecord>(e =>
        {
            e.ToTable("evaluations");
            e.Property(x => x.State).HasConversion<string>().HasMaxLength(16);
            // One evaluation per run: a redelivered TrainingCompleted re-announces it instead of scoring again.
            e.HasIndex(x => x.RunId).IsUnique();
        });
        modelBuilder.Entity<DeletedRun>(e =>
        {
            e.ToTable("deleted_runs");
            e.HasKey(d => d.RunId);
        });
        modelBuilder.ConfigureOutbox();
    }
}
