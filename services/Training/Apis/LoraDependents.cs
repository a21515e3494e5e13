using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Training.Data;

namespace Training.Apis;

/// <summary>
/// A LoRA version holds only its adapters, so the versions it runs on must outlive it: deleting a run's versions or an
/// imported version is refused while LoRA versions name them as their base.
/// </summary>
public static class LoraDependents
{
    /// <summary>409 naming the LoRA versions that run on any of <paramref name="bases"/> ("name/versions/N"), or null when none do.</summary>
    public static async Task<IResult?> RefuseIfAdaptedAsync(TrainingDbContext db, IReadOnlyCollection<string> bases, CancellationToken cancellationToken)
    {
        var adapters = await db.ModelVersions.Where(v => v.FineTuneMethod == FineTuneMethods.Lora && bases.Contains(v.BaseModel!))
            .Select(v => $"{v.Name}/versions/{v.Version}").ToListAsync(cancellationToken);
        return adapters.Count == 0
            ? null
            : Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "LoRA versions run on this model.",
                detail: $"{string.Join(", ", adapters)} adapt {string.Join(", ", bases)} and hold no weights of their own: delete them first.",
                extensions: new Dictionary<string, object?> { ["modelVersions"] = adapters });
    }
}
