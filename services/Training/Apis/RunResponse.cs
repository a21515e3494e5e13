using Platform.Contracts;
using Platform.ServiceDefaults.Security;
using Training.Data;
using Training.Runs;

namespace Training.Apis;

public sealed record CreateRunRequest(Guid? DatasetId, string? Name, ModelSpec? Model, TrainingSpec? Training,
    InitFromSpec? InitFrom = null,
    FineTuneSpec? FineTune = null, Guid? TokenizerId = null, Guid? VectorsId = null)
{
    public RunSpec ToSpec() => new()
    {
        Name = Name ?? "",
        Model = Model ?? new ModelSpec(),
        Training = Training ?? new TrainingSpec(),
        InitFrom = InitFrom,
        FineTune = FineTune,
        TokenizerId = TokenizerId,
        VectorsId = VectorsId,
    };
}

public sealed record CheckpointInfo([property: ArtifactKey] string Key, string? Sha256, int? Step = null);

public sealed record RunResponse(
    Guid Id,
    string Name,
    Guid DatasetId,
    RunState State,
    string? FailureReason,
    Owner? Owner,
    bool CancelRequested,
    int Step,
    int MaxSteps,
    double Progress,
    double? LatestTrainLoss,
    double? LatestValidationLoss,
    double? BestValidationLoss,
    double? TokensPerSecond,
    double? EtaSeconds,
    long? Parameters,
    ModelSpec Model,
    TrainingSpec Training,
    CheckpointInfo? Checkpoint,
    CheckpointInfo? LatestCheckpoint,
    CheckpointInfo? BestCheckpoint,
    int? ModelVersion,
    RunCost? Cost,
    int Crashes,
    string? LeaseOwner,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset UpdatedAt,
    string? BaseModel = null,
    FineTuneSpec? FineTune = null,
    [property: ArtifactKey] string? TokenizerKey = null,
    Guid? VectorsId = null,
    IReadOnlyList<string>? Tags = null,
    string? Note = null,
    Guid? SweepId = null,
    DateTimeOffset? TrainedAt = null,
    string? Precision = null,
    string? PrecisionReason = null,
    int? Epoch = null,
    int? StepsPerEpoch = null,
    bool External = false,
    Guid? ExperimentId = null,
    IReadOnlyDictionary<string, string>? Params = null)
{
    // Precision: what the run trains in ("fp32" or "bf16"), decided by the worker that starts it, with the reason;
    // Training.Precision is what the spec asked for ("auto" by default).
    public static RunResponse From(Run r) => new(
        r.Id, r.Name, r.DatasetId, r.State, r.FailureReason, r.OwnerOf(), r.CancelRequested, r.Step, r.MaxSteps,
        r.MaxSteps == 0 ? 0 : Math.Round((double)r.Step / r.MaxSteps, 4),
        r.LatestTrainLoss, r.LatestValidationLoss, r.BestValidationLoss, r.TokensPerSecond,
        r.State == RunState.Training ? r.EtaSeconds : null, r.Parameters, r.Spec.Model, r.Spec.Training,
        r.CheckpointKey is null ? null : new CheckpointInfo(r.CheckpointKey, r.CheckpointSha256, r.MaxSteps),
        r.LatestCheckpointStep is null ? null
        : new CheckpointInfo(r.LatestCheckpointKey, r.LatestCheckpointSha256, r.LatestCheckpointStep),
        r.BestCheckpointStep is null ? null
        : new CheckpointInfo(r.BestCheckpointKey, r.BestCheckpointSha256, r.BestCheckpointStep),
        r.ModelVersion,
        r.Cost, r.Crashes, r.LeaseOwner,
        r.CreatedAt, r.StartedAt, r.FinishedAt, r.UpdatedAt,
        r.BaseModel, r.BaseModel is null ? null : r.Spec.FineTune ?? new FineTuneSpec(), r.TokenizerKey,
        r.Spec.VectorsId, r.Tags, r.Note, r.SweepId, r.TrainedAt, r.Precision, r.PrecisionReason,
        r.Epoch, r.StepsPerEpoch, r.External, r.ExperimentId, RunParameters.Of(r));
}

/// <summary>A deletion: done (Deleted), or pending until the training run has stopped (DeleteRequested).</summary>
public sealed record RunDeletionResponse(Guid Id, string State, IReadOnlyList<string> ModelVersions);

public sealed record MetricPointResponse(int Step, double Value, DateTimeOffset Timestamp);
public sealed record MetricSeriesResponse(string Key, int TotalPoints, IReadOnlyList<MetricPointResponse> Points);
public sealed record MetricsResponse(Guid RunId, IReadOnlyList<MetricSeriesResponse> Series);

/// <summary>PATCH body for a run: its tags and/or its note (null leaves one as it is; an empty note clears
/// it).</summary>
public sealed record RunPatch(List<string>? Tags, string? Note);

/// <summary>One hyper-parameter across the compared runs; Differs when not every run has the same value.</summary>
public sealed record ParameterRow(string Parameter, IReadOnlyList<System.Text.Json.Nodes.JsonNode?> Values,
    bool Differs);

/// <summary>A metric across the compared runs, aligned on the union of their steps (null where a run has no
/// point).</summary>
public sealed record AlignedSeries(string Key, IReadOnlyList<int> Steps, IReadOnlyList<IReadOnlyList<double?>> Values);

public sealed record RunComparison(IReadOnlyList<RunResponse> Runs, IReadOnlyList<ParameterRow> Parameters,
    IReadOnlyList<AlignedSeries> Metrics);

/// <summary>Where a page of runs ended: the order it was in, the sort value (val_loss or step), and the
/// tie-breakers.</summary>
public sealed record RunPosition(string Order, double? Value, DateTimeOffset At, Guid Id);

/// <summary>A run on a dataset, as a dataset's deletion lists it.</summary>
public sealed record DependentRun(Guid Id, string Name, string State, int? ModelVersion, Owner? Owner);

/// <summary>What deleting a dataset with cascade takes away: the runs on it and the versions learned from it.</summary>
public sealed record DatasetDependents(IReadOnlyList<DependentRun> Runs,
    IReadOnlyList<Training.Registry.DependentVersion> ModelVersions);
