using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Training.Registry.Data;

namespace Training.Registry;

public static class ModelVersions
{
    /// <summary>The version a reference names: "name" the latest, "name/versions/N" that one, "name@alias" where the
    /// alias points now.</summary>
    public static async Task<ModelVersion?> FindAsync(RegistryDbContext db, ModelReference reference,
        CancellationToken cancellationToken)
    {
        var number = reference.Version;
        if (reference.Alias is { } alias)
        {
            number = await db.ModelAliases.AsNoTracking().Where(a => a.Name == reference.Name && a.Alias == alias)
                .Select(a => (int?)a.Version).FirstOrDefaultAsync(cancellationToken);
            if (number is null)
                return null;
        }
        var query = db.ModelVersions.AsNoTracking().Where(v => v.Name == reference.Name);
        if (number is { } n)
            query = query.Where(v => v.Version == n);
        return await query.OrderByDescending(v => v.Version).FirstOrDefaultAsync(cancellationToken);
    }
}
