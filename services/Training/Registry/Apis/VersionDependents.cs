using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Training.Registry.Data;

namespace Training.Registry.Apis;

/// <summary>
/// What must go before a version may be deleted: an alias that points to it (serving follows aliases), and LoRA
/// versions that run on it (they hold only their adapters, so their base must outlive them).
/// </summary>
public static class VersionDependents
{
    /// <summary>409 naming what depends on any of <paramref name="versions"/> ("name/versions/N"), or null when nothing
    /// does.</summary>
    public static async Task<ProblemHttpResult?> RefuseDeletionAsync(RegistryDbContext db,
        IReadOnlyCollection<string> versions,
        CancellationToken cancellationToken)
    {
        var names = versions.Select(v => ModelReference.Parse(v)!.Name).Distinct().ToList();
        var aliases = (await db.ModelAliases.AsNoTracking().Where(a =>
            names.Contains(a.Name)).ToListAsync(cancellationToken))
            .Where(a => versions.Contains($"{a.Name}/versions/{a.Version}"))
            .Select(a => $"{a.Name}@{a.Alias}").ToList();
        if (aliases.Count > 0)
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "An alias points to this model version.",
                detail: $"{string.Join(", ", aliases)} point to {string.Join(", ", versions)}: move or delete those " +
                $"aliases first.",
                extensions: new Dictionary<string, object?> { ["aliases"] = aliases });

        var adapters = await db.ModelVersions.Where(v => v.FineTuneMethod == FineTuneMethods.Lora
            && versions.Contains(v.BaseModel!))
            .Select(v => $"{v.Name}/versions/{v.Version}").ToListAsync(cancellationToken);
        return adapters.Count == 0
            ? null
            : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "LoRA versions run on this model.",
                detail: $"{string.Join(", ", adapters)} adapt {string.Join(", ", versions)} and hold no weights of " +
                $"their own: delete them first.",
                extensions: new Dictionary<string, object?> { ["modelVersions"] = adapters });
    }
}
