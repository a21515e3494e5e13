using Training.Registry.Apis;
using Training.Registry.Data;

namespace Training.Registry;

/// <summary>
/// What the rest of the Training service may ask the registry, in process: which version a reference names (a fine-tune's
/// base), and whether deleting a run's versions must wait for something. Training never reads the registry's tables.
/// </summary>
public sealed class ModelRegistry(RegistryDbContext db)
{
    /// <summary>The version "name", "name/versions/N" or "name@alias" names now (not tracked), or null.</summary>
    public Task<ModelVersion?> FindAsync(Platform.Contracts.ModelReference reference, CancellationToken cancellationToken) =>
        ModelVersions.FindAsync(db, reference, cancellationToken);

    /// <summary>A 409 naming the aliases or LoRA versions that depend on any of <paramref name="versions"/>, or null.</summary>
    public Task<IResult?> RefuseDeletionAsync(IReadOnlyCollection<string> versions, CancellationToken cancellationToken) =>
        VersionDependents.RefuseDeletionAsync(db, versions, cancellationToken);
}
