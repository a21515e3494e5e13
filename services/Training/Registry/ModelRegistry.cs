using Platform.Contracts;
using Platform.ServiceDefaults.Security;
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
    public Task<ModelVersion?> FindAsync(ModelReference reference, CancellationToken cancellationToken) =>
        ModelVersions.FindAsync(db, reference, cancellationToken);

    /// <summary>
    /// Claims the model name for the caller if nobody holds it; a 409 naming <paramref name="field"/> when it belongs
    /// to another key that has not shared it with the caller, else null.
    /// </summary>
    public Task<IResult?> RefuseNameAsync(string name, Caller caller, string field,
        CancellationToken cancellationToken) =>
        ModelNames.RefuseUnlessMayRegisterAsync(db, name, caller, field, cancellationToken);

    /// <summary>
    /// Claims the model name for <paramref name="owner"/> if nobody holds it; the other key's name record when it
    /// belongs to one that has not shared it with the owner, else null.
    /// </summary>
    public Task<ModelName?> NameTakenAsync(string name, Owner owner, bool isAdmin,
        CancellationToken cancellationToken) =>
        ModelNames.TakenAsync(db, name, owner, isAdmin, cancellationToken);

    /// <summary>A 409 naming the aliases or LoRA versions that depend on any of <paramref name="versions"/>, or null.</summary>
    public Task<IResult?> RefuseDeletionAsync(IReadOnlyCollection<string> versions, CancellationToken cancellationToken) =>
        VersionDependents.RefuseDeletionAsync(db, versions, cancellationToken);
}
