namespace Platform.Contracts;

/// <summary>Held-out figures of a trained checkpoint.</summary>
public sealed record EvaluationFigures(
    double Loss,
    double Perplexity,
    double BitsPerByte,
    double Top1Accuracy,
    double Top5Accuracy,
    long TokensEvaluated);

public sealed record EvaluationCompleted(Guid RunId, Guid EvaluationId, EvaluationFigures Figures, string? Sample, DateTimeOffset CompletedAt);

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
    Owner? Owner = null);
