using Platform.ServiceDefaults.Http;
using Platform.Contracts;

namespace Ingestion.Apis;

/// <summary>A run trained on a dataset, as Training reports it (and the model version it registered, if any).</summary>
public sealed record DependentRun(Guid Id, string Name, string State, int? ModelVersion, DependentOwner? Owner);

public sealed record DependentOwner(Guid Id, string Name);

/// <summary>A model version learned from a dataset (its own runs', or a fine-tune resting on one), with its
/// aliases.</summary>
public sealed record DependentVersion(string Name, int Version, DependentOwner? Owner, string? BaseModel,
    IReadOnlyList<string> Aliases);

/// <summary>What deleting a dataset with cascade takes away, of every owner.</summary>
public sealed record DatasetDependents(IReadOnlyList<DependentRun> Runs, IReadOnlyList<DependentVersion> ModelVersions)
{
    public bool Any => Runs.Count > 0 || ModelVersions.Count > 0;
}

/// <summary>
/// Asks Training which runs use a dataset and which versions learned from it, before the dataset is deleted (it owns
/// runs and the registry, so only it knows: the one call against the pipeline's direction, for the deletion's list).
/// Signed as this service; retried on transient failures by the resilience handler.
/// </summary>
public sealed class TrainingClient(HttpClient http)
{
    /// <summary>Every run on the dataset and every version learned from it, whoever owns them.</summary>
    public async Task<DatasetDependents> DependentsOfAsync(Guid datasetId, CancellationToken cancellationToken) =>
        await http.GetFromJsonAsync<DatasetDependents>($"/api/runs/dependents?datasetId={datasetId}", cancellationToken)
        ?? throw new System.Text.Json.JsonException("Training answered no dependents.");
}
