namespace Platform.Contracts;

/// <summary>
/// A dataset was deleted: its corpus and splits are already gone. Every service removes what it derived from it
/// (tokenizer and token files, evaluations judged on it). With Cascade, the runs and model versions listed (those
/// the caller was shown and agreed to delete, whoever owns them) go too; a run created after that list was made is
/// failed instead, never deleted, and without Cascade nothing of another's is deleted.
/// </summary>
public sealed record DatasetDeleted(Guid DatasetId, bool Cascade, Owner DeletedBy, DateTimeOffset DeletedAt)
{
    /// <summary>The runs on the dataset the caller agreed to delete (null from before the list: every one).</summary>
    public IReadOnlyList<Guid>? Runs { get; init; }
    /// <summary>The versions learned from it ("name/versions/N") the caller agreed to delete (null: every
    /// one).</summary>
    public IReadOnlyList<string>? ModelVersions { get; init; }
}

/// <summary>A run was deleted with its checkpoints and metrics; what was derived from it elsewhere goes too
/// (evaluations).</summary>
public sealed record RunDeleted(Guid RunId, Guid DatasetId, DateTimeOffset DeletedAt);

/// <summary>A model version left the registry: it can no longer be served.</summary>
public sealed record ModelVersionDeleted(string Name, int Version, Guid RunId, DateTimeOffset DeletedAt);
