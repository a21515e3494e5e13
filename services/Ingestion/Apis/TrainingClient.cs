using Platform.Contracts;

namespace Ingestion.Apis;

/// <summary>A run trained on a dataset, as Training reports it (and the model version it registered, if any).</summary>
public sealed record DependentRun(Guid Id, string Name, string State, int? ModelVersion, DependentOwner? Owner);

public sealed record DependentOwner(Guid Id, string Name);

/// <summary>
/// Asks Training which runs use a dataset, before the dataset is deleted (it owns runs and the registry, so only it
/// knows). Signed as this service; retried on transient failures by the resilience handler.
/// </summary>
public sealed class TrainingClient(HttpClient http)
{
    public async Task<IReadOnlyList<DependentRun>> RunsOnAsync(Guid datasetId, CancellationToken cancellationToken) =>
        await http.GetFromJsonAsync<List<DependentRun>>($"/api/runs?datasetId={datasetId}&limit=1000", cancellationToken) ?? [];

    /// <summary>Training's estimate of an auto-train run (it owns the rule and knows its workers' memory).</summary>
    public async Task<System.Text.Json.Nodes.JsonObject?> EstimateAsync(RunSpec spec, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("/api/runs/estimate", new { spec.Name, spec.Model, spec.Training }, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>(cancellationToken);
    }
}
