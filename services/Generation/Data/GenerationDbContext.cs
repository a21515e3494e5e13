using Platform.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Security;

namespace Generation.Data;

public sealed class GenerationDbContext(DbContextOptions<GenerationDbContext> options) : DbContext(options)
{
    public const string Schema = "generation";

    public DbSet<ServableModel> Models => Set<ServableModel>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<ServableModel>(e =>
        {
            e.ToTable("servable_models");
            e.HasKey(m => new { m.Name, m.Version });
        });
        modelBuilder.ConfigureProjectedAliases();
        modelBuilder.ConfigureDatasetReach();
    }
}
