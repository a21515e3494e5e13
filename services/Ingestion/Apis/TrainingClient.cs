using Platform.ServiceDefaults.Http;
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
    /// <summary>Every run on the dataset, page by page.</summary>
    public async Task<IReadOnlyList<DependentRun>> RunsOnAsync(Guid datasetId, CancellationToken cancellationToken)
    {
        var runs = new List<DependentRun>();
        string? cursor = null;
        do
        {
            var page = await http.GetFromJsonAsync<Page<DependentRun>>(
                $"/api/runs?datasetId={datasetId}&limit={Pages.MaxLimit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"), cancellationToken)
                ?? throw new System.Text.Json.JsonException("Training answered no page of runs.");
            runs.AddRange(page.Items);
            cursor = page.NextCursor;
        } while (cursor is not null);
        return runs;
    }

    /// <summary>Training's estimate of an auto-train run (it owns the rule and knows its workers' memory).</summary>
    public async Task<System.Text.Json.Nodes.JsonObject?> EstimateAsync(RunSpec spec, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("/api/runs/estimate", new { spec.Name, spec.Model, spec.Training }, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>(cancellationToken);
    }
}
