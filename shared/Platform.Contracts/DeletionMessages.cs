namespace Platform.Contracts;

/// <summary>
/// A dataset was deleted: its corpus and splits are already gone. Every service removes what it derived from it
/// (tokenizer and token files; runs, checkpoints, metrics and model versions); with Cascade false there were no
/// runs when the owner asked, and any created since are removed too, since they can no longer train.
/// </summary>
public sealed record DatasetDeleted(Guid DatasetId, bool Cascade, Owner DeletedBy, DateTimeOffset DeletedAt);

/// <summary>A run was deleted with its checkpoints and metrics; what was derived from it elsewhere goes too (evaluations).</summary>
public sealed record RunDeleted(Guid RunId, Guid DatasetId, DateTimeOffset DeletedAt);

/// <summary>A model version left the registry: it can no longer be served.</summary>
public sealed record ModelVersionDeleted(string Name, int Version, Guid RunId, DateTimeOffset DeletedAt);
