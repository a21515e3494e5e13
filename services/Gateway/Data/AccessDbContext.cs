using Gateway.Access;
using Gateway.Idempotency;
using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Security;

namespace Gateway.Data;

/// <summary>The gateway's own schema: API keys, the audit log and idempotency records. No other service reads
/// it.</summary>
public sealed class AccessDbContext(DbContextOptions<AccessDbContext> options) : DbContext(options)
{
    public const string Schema = "gateway";

    public DbSet<ApiKey> Keys => Set<ApiKey>();
    public DbSet<AuditEntry> Audit => Set<AuditEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<ApiKey>(e =>
        {
            e.ToTable("api_keys");
            e.Property(k => k.Name).HasMaxLength(ApiKeySecret.MaxNameLength);
            e.Property(k => k.Role).HasMaxLength(16);
            e.Property(k => k.SecretHash).HasMaxLength(64);
            e.Property(k => k.Prefix).HasMaxLength(16);
            e.HasIndex(k => k.SecretHash).IsUnique();
        });
        modelBuilder.Entity<IdempotencyRecord>(e =>
        {
            e.ToTable("idempotency_records");
            e.HasKey(r => new { r.KeyId, r.IdempotencyKey });
            e.Property(r => r.IdempotencyKey).HasMaxLength(255);
            e.Property(r => r.Method).HasMaxLength(16);
            e.Property(r => r.Path).HasMaxLength(2048);
            e.Property(r => r.RequestSha256).HasMaxLength(64);
            e.Property(r => r.ContentType).HasMaxLength(256);
            e.Property(r => r.Location).HasMaxLength(2048);
            e.HasIndex(r => r.CreatedAt);
        });
        modelBuilder.Entity<AuditEntry>(e =>
        {
            e.ToTable("audit_log");
            e.Property(a => a.KeyName).HasMaxLength(ApiKeySecret.MaxNameLength);
            e.Property(a => a.Role).HasMaxLength(16);
            e.Property(a => a.Method).HasMaxLength(16);
            e.Property(a => a.Path).HasMaxLength(2048);
            e.Property(a => a.Location).HasMaxLength(2048);
            e.Property(a => a.RemoteAddress).HasMaxLength(64);
            e.Property(a => a.Detail).HasMaxLength(AuditDetail.MaxLength);
            e.HasIndex(a => a.At);
        });
    }
}
