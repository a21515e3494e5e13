using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Security;
using Training.Registry.Apis;
using Training.Registry.Data;

namespace Training.Registry;

/// <summary>A version learned from a dataset: its owner, its base (a fine-tune's), and the aliases pointing to
/// it.</summary>
public sealed record DependentVersion(string Name, int Version, Owner? Owner, string? BaseModel,
    IReadOnlyList<string> Aliases,
    [property: System.Text.Json.Serialization.JsonIgnore] IReadOnlyList<Guid> Lineage)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public string Reference => $"{Name}/versions/{Version}";
}

/// <summary>A registered version as the rest of the Training service sees it: where its weights and tokenizer are, and
/// the datasets it learned from.</summary>
public sealed record RegisteredVersion(string Name, int Version, string CheckpointKey, string CheckpointSha256,
    string TokenizerKey, string? SourceTokenizerKey, IReadOnlyList<Guid> Lineage)
{
    public string Reference => $"{Name}/versions/{Version}";
}

/// <summary>
/// What the rest of the Training service may ask the registry, in process: which version a reference names (a
/// fine-tune's base), and whether deleting a run's versions must wait for something. Training never reads the
/// registry's tables.
/// </summary>
public sealed class ModelRegistry(RegistryDbContext db, ModelImporter importer)
{
    /// <summary>
    /// Registers an external run's files as the next version of <paramref name="name"/>, checked as an import is;
    /// the problem (400 naming "weights", "tokenizer" or "config"; 409 for a name another key holds; 422 for a model
    /// too big) when they cannot be.
    /// </summary>
    public async Task<(RegisteredVersion? Version, ProblemHttpResult? Problem)> RegisterFilesAsync(string name,
        Guid runId, Func<Stream, Task> writeWeights, Func<Stream, Task> writeTokenizer, JsonObject? config,
        Caller caller, CancellationToken cancellationToken)
    {
        var (v, problem) = await importer.ImportAsync(name, writeWeights, writeTokenizer, config, caller, runId,
            cancellationToken);
        return v is null
            ? (null, problem)
            : (new RegisteredVersion(v.Name, v.Version, v.CheckpointKey, v.CheckpointSha256, v.TokenizerKey,
                v.SourceTokenizerKey, v.Lineage), null);
    }

    /// <summary>The version "name", "name/versions/N" or "name@alias" names now (not tracked), or null.</summary>
    public async Task<RegisteredVersion?> FindAsync(ModelReference reference, CancellationToken cancellationToken) =>
        await ModelVersions.FindAsync(db, reference, cancellationToken) is { } v
            ? new RegisteredVersion(v.Name, v.Version, v.CheckpointKey, v.CheckpointSha256, v.TokenizerKey,
                v.SourceTokenizerKey, v.Lineage)
            : null;

    /// <summary>
    /// Claims the model name for the caller if nobody holds it; a 409 naming <paramref name="field"/> when it belongs
    /// to another key that has not shared it with the caller, else null.
    /// </summary>
    public Task<ProblemHttpResult?> RefuseNameAsync(string name, Caller caller, string field,
        CancellationToken cancellationToken) =>
        ModelNames.RefuseUnlessMayRegisterAsync(db, name, caller, field, cancellationToken);

    /// <summary>
    /// Claims the model name for <paramref name="owner"/> if nobody holds it; the name as registered when it belongs
    /// to another key that has not shared it with the owner, else null.
    /// </summary>
    public async Task<string?> NameTakenAsync(string name, Owner owner, bool isAdmin,
        CancellationToken cancellationToken) =>
        (await ModelNames.TakenAsync(db, name, owner, isAdmin, cancellationToken))?.Name;

    /// <summary>
    /// Every version whose lineage holds the dataset (its runs' versions, and fine-tunes resting on them, whoever owns
    /// them), with the aliases that point to each: what deleting the dataset with cascade takes away.
    /// </summary>
    public async Task<IReadOnlyList<DependentVersion>> LearnedFromAsync(Guid datasetId,
        CancellationToken cancellationToken)
    {
        var versions = await db.ModelVersions.AsNoTracking().Where(v => v.Lineage.Contains(datasetId))
            .OrderBy(v => v.Name).ThenBy(v => v.Version).ToListAsync(cancellationToken);
        var names = versions.Select(v => v.Name).Distinct().ToList();
        var aliases = await db.ModelAliases.AsNoTracking().Where(a => names.Contains(a.Name))
            .ToListAsync(cancellationToken);
        return [.. versions.Select(v => new DependentVersion(v.Name, v.Version, v.OwnerOf(), v.BaseModel,
            [.. aliases.Where(a => a.Name == v.Name && a.Version == v.Version).Select(a => a.Alias).Order()],
                v.Lineage))];
    }

    /// <summary>A 409 naming the aliases or LoRA versions that depend on any of <paramref name="versions"/>, or
    /// null.</summary>
    public Task<ProblemHttpResult?> RefuseDeletionAsync(IReadOnlyCollection<string> versions,
        CancellationToken cancellationToken) =>
        VersionDependents.RefuseDeletionAsync(db, versions, cancellationToken);
}
