using Platform.Contracts;
using Platform.ServiceDefaults.Security;

namespace Training.Data;

/// <summary>
/// A named group of runs, as MLflow has them: the platform's own runs and runs that a user's script logs (see
/// <see cref="Run.External"/>). Its name is unique across the platform, so a tenant cannot take another's, and only
/// its owner (or an admin) puts runs in it.
/// </summary>
public sealed class Experiment : IOwned
{
    public Guid Id { get; private set; }
    public string Name { get; private set; } = "";
    public string? Description { get; private set; }
    public Guid? OwnerId { get; private set; }
    public string? OwnerName { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    public static Experiment Create(string name, string? description, Owner owner) => new()
    {
        Id = Guid.NewGuid(),
        Name = name,
        Description = string.IsNullOrWhiteSpace(description) ? null : description,
        OwnerId = owner.Id,
        OwnerName = owner.Name,
        CreatedAt = DateTimeOffset.UtcNow,
    };
}

/// <summary>A file a run's script uploaded, under runs/{id}/artifacts/{path} in the artifact store.</summary>
public sealed class RunArtifact
{
    public Guid RunId { get; set; }
    public string Path { get; set; } = "";
    public long Bytes { get; set; }
    public string Sha256 { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    public static string KeyOf(Guid runId, string path) => $"{Run.PrefixOf(runId)}/artifacts/{path}";
}
