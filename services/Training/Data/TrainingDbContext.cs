using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;

namespace Training.Data;

public sealed class TrainingDbContext(DbContextOptions<TrainingDbContext> options) : DbContext(options), IOutboxContext
{
    public const string Schema = "training";

    public DbSet<Run> Runs => Set<Run>();
    public DbSet<MetricPoint> Metrics => Set<MetricPoint>();
    public DbSet<KnownDataset> Datasets => Set<KnownDataset>();
    public DbSet<KnownEncoding> Encodings => Set<KnownEncoding>();
    public DbSet<VectorsFile> Vectors => Set<VectorsFile>();
    public DbSet<Sweep> Sweeps => Set<Sweep>();
    public DbSet<PrecisionMeasurement> PrecisionMeasurements => Set<PrecisionMeasurement>();
    public DbSet<Experiment> Experiments => Set<Experiment>();
    public DbSet<RunArtifact> RunArtifacts => Set<RunArtifact>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    /// <summary>Runs that have not been deleted: what every read sees.</summary>
    public IQueryable<Run> LiveRuns => Runs.Where(r => r.State != RunState.Deleted);
    public DbSet<DatasetReach> DatasetReach => Set<DatasetReach>();

    /// <summary>The live runs <paramref name="caller"/> may read: those on a dataset it may read (see
    /// <see cref="DatasetReach"/>), and the external runs it owns.</summary>
    public async Task<IQueryable<Run>> ReadableRunsAsync(Caller caller, CancellationToken cancellationToken) =>
        await this.ReadableByAsync(caller, cancellationToken) is { } readable
            ? LiveRuns.Where(r => r.External ? r.OwnerId == caller.KeyId : readable.Contains(r.DatasetId))
            : LiveRuns;

    /// <summary>The sweeps <paramref name="caller"/> may read: those on a dataset it may read.</summary>
    public async Task<IQueryable<Sweep>> ReadableSweepsAsync(Caller caller, CancellationToken cancellationToken) =>
        await this.ReadableByAsync(caller, cancellationToken) is { } readable
            ? Sweeps.Where(s => readable.Contains(s.DatasetId))
            : Sweeps;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<Run>(e =>
        {
            e.ToTable("runs");
            // Like the lease token, the state a change was decided on must still be the stored one: a cancel or a
            // deletion decided on a Queued run must not land on a run a worker started meanwhile.
            e.Property(r => r.State).HasConversion<string>().HasMaxLength(16).IsConcurrencyToken();
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
            e.Property(r => r.Precision).HasMaxLength(8);
            e.Property(r => r.PrecisionReason).HasMaxLength(512);
            e.OwnsOne(r => r.Cost, c => c.ToJson());
            e.Property(r => r.Params).HasJsonbDictionary().HasDefaultValueSql("'{}'::jsonb");
            e.HasIndex(r => r.ExperimentId);
        });
        modelBuilder.Entity<Experiment>(e =>
        {
            e.ToTable("experiments");
            e.HasIndex(x => x.Name).IsUnique();
            e.Property(x => x.Name).HasMaxLength(64);
            e.Property(x => x.Description).HasMaxLength(4000);
            e.Property(x => x.OwnerName).HasMaxLength(64);
        });
        modelBuilder.Entity<RunArtifact>(e =>
        {
            e.ToTable("run_artifacts");
            e.HasKey(a => new { a.RunId, a.Path });
            e.Property(a => a.Path).HasMaxLength(256);
            e.Property(a => a.Sha256).HasMaxLength(64);
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
        modelBuilder.Entity<PrecisionMeasurement>(e =>
        {
            e.ToTable("precision_measurements");
            e.HasKey(m => new { m.Machine, m.Shape });
            e.Property(m => m.Machine).HasMaxLength(256);
            e.Property(m => m.Shape).HasMaxLength(256);
        });
        modelBuilder.Entity<Sweep>(e =>
        {
            e.ToTable("sweeps");
            e.Property(x => x.Name).HasMaxLength(64);
            e.Property(x => x.State).HasConversion<string>().HasMaxLength(16);
            e.Property(x => x.Strategy).HasMaxLength(16);
            e.Property(x => x.Space).HasColumnType("jsonb");
            e.Property(x => x.Objective).HasMaxLength(32);
            e.Property(x => x.PromoteAlias).HasMaxLength(40);
            e.Property(x => x.OwnerName).HasMaxLength(64);
            e.HasIndex(x => x.State);
            e.HasIndex(x => x.OwnerId);
        });
        modelBuilder.Entity<Run>().HasIndex(r => r.SweepId);
        modelBuilder.Entity<Run>().Property(r => r.Note).HasMaxLength(4000);
        modelBuilder.Entity<Run>().Property(r => r.Tags).HasDefaultValueSql("'{}'::text[]");
        modelBuilder.ConfigureDatasetReach();
        modelBuilder.ConfigureOutbox();
    }
}
