namespace Platform.Contracts;

public sealed record EvaluationCompleted(Guid RunId, Guid EvaluationId, EvaluationFigures Figures, string? Sample,
    DateTimeOffset CompletedAt);

public sealed record EvaluationFailed(Guid RunId, string Reason, DateTimeOffset FailedAt);

/// <summary>A servable model version now exists in the registry.</summary>
public sealed record ModelVersionRegistered(
    string Name,
    int Version,
    Guid RunId,
    string CheckpointKey,
    string CheckpointSha256,
    string TokenizerKey,
    EvaluationFigures? Evaluation,
    DateTimeOffset RegisteredAt,
    Owner? Owner = null,
    string Architecture = Architectures.Gpt,
    string? SourceTokenizerKey = null)
{
    /// <summary>
    /// The datasets the weights learned from (its run's and its base's; none for an import): whoever may read them all
    /// may use the version. A version registered before sharing is announced again with it.
    /// </summary>
    public IReadOnlyList<Guid>? Lineage { get; init; }

    /// <summary>The chat template (Jinja) of a version trained on conversations: only such a version serves chat
    /// completions.</summary>
    public string? ChatTemplate { get; init; }
}

/// <summary>
/// How a model version is now served: <paramref name="Quantization"/> "int8" (its weights quantized for decoding) or
/// null (as trained). <paramref name="Sequence"/> grows with every change of the version's setting, so a projection
/// keeps the newest and ignores a redelivered or late older one.
/// </summary>
public sealed record ModelVersionQuantizationChanged(string Name, int Version, string? Quantization, long Sequence,
    DateTimeOffset ChangedAt);

/// <summary>How a version may be served: "int8" (<see cref="Int8"/>), or as trained ("none" in requests, null in
/// records).</summary>
public static class Quantizations
{
    public const string Int8 = "int8", None = "none";
}

/// <summary>
/// An alias of a model now points to <paramref name="Version"/> (null: removed). <paramref name="Sequence"/> grows with
/// every move, so a projection keeps the newest and ignores a redelivered or late older move.
/// </summary>
public sealed record ModelAliasMoved(string Name, string Alias, int? Version, long Sequence, DateTimeOffset MovedAt);
