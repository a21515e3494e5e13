using System.Net;
using Platform.Contracts;
using Platform.ServiceDefaults.Security;

namespace Training.Runs;

public sealed record IngestionSharing(bool Everyone, IReadOnlyList<Guid> Readers);

public sealed record IngestionDataset(Guid Id, string Name, string State, string? FailureReason, string? Format = null,
    Owner? Owner = null, IngestionSharing? Sharing = null)
{
    /// <summary>As <see cref="DatasetReach.Admits"/>, for a dataset whose reach has not reached this service
    /// yet.</summary>
    public bool Admits(Caller caller) =>
        DatasetReaches.Admits(caller, Owner?.Id, Sharing?.Everyone == true, Sharing?.Readers ?? []);
}

/// <summary>
/// Asks Ingestion's API about a dataset this service has not heard of yet (its DatasetIngested event may
/// still be in flight), so a run created right after an upload is not refused with 404.
/// </summary>
public sealed class IngestionClient(HttpClient http)
{
    public async Task<IngestionDataset?> FindAsync(Guid datasetId, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"/api/datasets/{datasetId}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<IngestionDataset>(cancellationToken);
    }
}
