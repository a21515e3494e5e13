namespace Platform.Contracts;

/// <summary>
/// Held-out figures of a trained checkpoint. Token figures are next-token predictions (teacher-forced for an
/// encoder-decoder): accuracy is Top1Accuracy; precision, recall and F1 are macro-averaged over the token classes
/// that occur as a target or a prediction; calibration error is the expected calibration error over 15 confidence
/// bins. Sequence figures (encoder-decoder only) compare whole decoded outputs with the references.
/// </summary>
public sealed record EvaluationFigures(
    double Loss,
    double Perplexity,
    double BitsPerByte,
    double Top1Accuracy,
    double Top5Accuracy,
    long TokensEvaluated)
{
    public double? MacroPrecision { get; init; }
    public double? MacroRecall { get; init; }
    public double? MacroF1 { get; init; }
    public double? ExpectedCalibrationError { get; init; }
    /// <summary>sacreBLEU-compatible corpus BLEU (0-100) of the decoded validation pairs.</summary>
    public double? Bleu { get; init; }
    /// <summary>sacreBLEU's BLEU tokenisation used: "13a", or "zh" for Chinese targets.</summary>
    public string? BleuTokenize { get; init; }
    /// <summary>chrF (character n-grams up to 6, β = 2), 0-100.</summary>
    public double? ChrF { get; init; }
    /// <summary>Share of pairs decoded exactly as their reference.</summary>
    public double? ExactMatch { get; init; }
    public long? PairsEvaluated { get; init; }
}

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
}

/// <summary>
/// An alias of a model now points to <paramref name="Version"/> (null: removed). <paramref name="Sequence"/> grows with
/// every move, so a projection keeps the newest and ignores a redelivered or late older move.
/// </summary>
public sealed record ModelAliasMoved(string Name, string Alias, int? Version, long Sequence, DateTimeOffset MovedAt);
