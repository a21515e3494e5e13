namespace Platform.Contracts;

/// <summary>Command: train the run now (its dataset is tokenized).</summary>
public sealed record StartTraining(Guid RunId);

/// <summary>
/// Where a trained model and the data to judge it live, and what the registry records of it once it is evaluated: its
/// dataset, owner, base model (a fine-tune's "name/versions/N" and method), the validation loss its registration policy
/// picked (best or last) and what training cost.
/// </summary>
public sealed record TrainingCompleted(
    Guid RunId,
    string ModelName,
    string CheckpointKey,
    string CheckpointSha256,
    string TokenizerKey,
    string ValidationTokensKey,
    long ValidationBytes,
    long ValidationTokens,
    int Steps,
    double FinalTrainLoss,
    double? FinalValidationLoss,
    DateTimeOffset CompletedAt,
    string Architecture = Architectures.Gpt,
    string? SourceTokenizerKey = null)
{
    public Guid DatasetId { get; init; }
    public Owner? Owner { get; init; }
    public string? BaseModel { get; init; }
    public string? FineTuneMethod { get; init; }
    public double? RegisteredValidationLoss { get; init; }
    public RunCost? Cost { get; init; }
    /// <summary>The datasets the weights learned from: the run's, and its base's lineage for a fine-tune.</summary>
    public IReadOnlyList<Guid>? Lineage { get; init; }
    /// <summary>The chat template (Jinja) of a model trained on conversations; null for one that was not.</summary>
    public string? ChatTemplate { get; init; }
    /// <summary>What the weights were trained on and how (null from a worker from before it was sent).</summary>
    public TrainingProvenance? Provenance { get; init; }
}

/// <summary>Live progress of a run, published at most once per second.</summary>
public sealed record TrainingProgressed(Guid RunId, int Step, int MaxSteps, double Loss, double TokensPerSecond,
    double? EtaSeconds, DateTimeOffset At)
{
    /// <summary>Every metric point recorded since the previous event (loss, lr, val_loss, train_loss), for live
    /// charts.</summary>
    public IReadOnlyList<MetricSample> Points { get; init; } = [];
    /// <summary>The epoch the step belongs to (1-based) and the run's epochs, for a run counted in epochs.</summary>
    public int? Epoch { get; init; }
    public int? Epochs { get; init; }
}

public sealed record MetricSample(string Key, int Step, double Value);

/// <summary>Queues that commands are sent to (events are published and need no name).</summary>
public static class Queues
{
    public const string StartTraining = "training-start-training";
    public const string EncodeDataset = "tokenization-encode-dataset";
}

/// <summary>
/// Every run of a sweep has ended. <paramref name="State"/> is Completed, Failed or Cancelled; the best run (lowest
/// validation loss among the completed ones) registered <paramref name="BestModelName"/> v<paramref
/// name="BestVersion"/>, to which the registry moves <paramref name="PromoteAlias"/> when the sweep completed and asked
/// for it.
/// </summary>
public sealed record SweepCompleted(Guid SweepId, string State, Guid? BestRunId, string? BestModelName,
    int? BestVersion, double? BestValue,
    string? PromoteAlias, Owner? Owner, DateTimeOffset CompletedAt);

/// <summary>
/// What a version was trained on and how, for its model card: the dataset's name, its splits' sizes in tokens (and the
/// held-out split's in bytes), and the run's spec as it was trained.
/// </summary>
public sealed record TrainingProvenance(string DatasetName, long? TrainTokens, long? ValidationTokens,
    long? ValidationBytes, RunSpec Spec);
