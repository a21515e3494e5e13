using Platform.Contracts;

namespace Training.Data;

public enum RunState { Queued, WaitingForData, Training, Evaluating, Completed, Failed, Cancelled }

public sealed class Run
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public Guid DatasetId { get; set; }
    public RunState State { get; set; }
    public string? FailureReason { get; set; }
    public RunSpec Spec { get; set; } = new();
    public bool CancelRequested { get; set; }
    public int Step { get; set; }
    public int MaxSteps { get; set; }
    public long? Parameters { get; set; }
    public double? LatestTrainLoss { get; set; }
    public double? LatestValidationLoss { get; set; }
    public double? BestValidationLoss { get; set; }
    public double? TokensPerSecond { get; set; }
    public double? EtaSeconds { get; set; }
    public string? CheckpointKey { get; set; }
    public string? CheckpointSha256 { get; set; }
    /// <summary>Step of the latest resumable training state (runs/{id}/latest.ckpt), written after each evaluation.</summary>
    public int? LatestCheckpointStep { get; set; }
    public string? LatestCheckpointSha256 { get; set; }
    /// <summary>Step and validation loss of the best training state so far (runs/{id}/best.ckpt).</summary>
    public int? BestCheckpointStep { get; set; }
    public string? BestCheckpointSha256 { get; set; }
    public int? ModelVersion { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public bool IsFinished => State is RunState.Completed or RunState.Failed or RunState.Cancelled;

    public string LatestCheckpointKey => $"runs/{Id:N}/latest.ckpt";
    public string BestCheckpointKey => $"runs/{Id:N}/best.ckpt";

    public void Fail(string reason)
    {
        State = RunState.Failed;
        FailureReason = reason;
        FinishedAt = UpdatedAt = DateTimeOffset.UtcNow;
    }
}

/// <summary>One point of a run's metric series (append-only).</summary>
public sealed class MetricPoint
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public string Key { get; set; } = "";
    public int Step { get; set; }
    public double Value { get; set; }
    public DateTimeOffset Timestamp { get; set; }
}

/// <summary>What this service knows of a dataset, built from Ingestion's and Tokenization's events.</summary>
public sealed class KnownDataset
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public DatasetStatus Status { get; set; }
    public string? FailureReason { get; set; }
    public Guid? TokenizerId { get; set; }
    public string? TokenizerKey { get; set; }
    public string? TrainTokensKey { get; set; }
    public string? ValidationTokensKey { get; set; }
    public int? VocabSize { get; set; }
    public long? ValidationTokens { get; set; }
    public long? ValidationBytes { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public enum DatasetStatus { Ingested, Tokenized, Failed }

/// <summary>A registered model version: {Name} v{Version}, produced by one run.</summary>
public sealed class ModelVersion
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public int Version { get; set; }
    public Guid RunId { get; set; }
    public Guid DatasetId { get; set; }
    public string CheckpointKey { get; set; } = "";
    public string CheckpointSha256 { get; set; } = "";
    public string TokenizerKey { get; set; } = "";
    public EvaluationFigures? Evaluation { get; set; }
    public string? Sample { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
