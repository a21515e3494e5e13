using Platform.Contracts;

namespace Platform.ML;

/// <summary>
/// The trainer's settings. Their defaults are a run spec's (<see cref="TrainingSpec"/>), the one place they are
/// written; <see cref="From"/> turns a run's spec into them.
/// </summary>
public sealed record TrainerOptions
{
    private static readonly TrainingSpec Defaults = new();

    public int MaxSteps { get; init; } = Defaults.MaxSteps;
    /// <summary>A run counted in epochs: each epoch's last step is followed by an evaluation.</summary>
    public int? StepsPerEpoch { get; init; }
    public int BatchSize { get; init; } = Defaults.BatchSize;
    public double LearningRate { get; init; } = Defaults.LearningRate;
    /// <summary>Floor of the cosine decay; null: the spec's default for the learning rate.</summary>
    public double? MinLearningRate { get; init; } = Defaults.MinLearningRate;
    public int WarmupSteps { get; init; } = Defaults.WarmupSteps;
    public double WeightDecay { get; init; } = Defaults.WeightDecay;
    public double Beta1 { get; init; } = Defaults.Beta1;
    public double Beta2 { get; init; } = Defaults.Beta2;
    public double GradClip { get; init; } = Defaults.GradClip;
    /// <summary>Micro-batches per optimiser step: the step sees GradientAccumulationSteps × BatchSize
    /// windows.</summary>
    public int GradientAccumulationSteps { get; init; } = Defaults.GradientAccumulationSteps;
    public int EvalInterval { get; init; } = Defaults.EvalInterval;
    public int EvalIters { get; init; } = Defaults.EvalIters;
    public int LogInterval { get; init; } = 10;
    public int Seed { get; init; } = Defaults.Seed;

    public LearningRateSchedule Schedule => new(LearningRate,
        MinLearningRate ?? TrainingSpec.DefaultMinLearningRate(LearningRate), Math.Min(WarmupSteps, MaxSteps),
        MaxSteps);

    /// <summary>A run's settings as the trainer takes them.</summary>
    public static TrainerOptions From(TrainingSpec t, int logInterval) => new()
    {
        MaxSteps = t.MaxSteps,
        BatchSize = t.BatchSize,
        LearningRate = t.LearningRate,
        MinLearningRate = t.MinLearningRate,
        WarmupSteps = t.WarmupSteps,
        WeightDecay = t.WeightDecay,
        Beta1 = t.Beta1,
        Beta2 = t.Beta2,
        GradClip = t.GradClip,
        GradientAccumulationSteps = t.GradientAccumulationSteps,
        EvalInterval = t.EvalInterval,
        EvalIters = t.EvalIters,
        LogInterval = Math.Max(1, logInterval),
        Seed = t.Seed,
    };
}

/// <summary>TokensPerStep: the token positions one optimiser step processes (for pairs, their mean count per
/// batch).</summary>
public sealed record StepReport(int Step, int MaxSteps, double Loss, double LearningRate, double GradNorm,
    double TokensPerSecond, double EtaSeconds,
    double TokensPerStep);

public sealed record EvalReport(int Step, double TrainLoss, double ValidationLoss);

/// <summary>A training state to save after an evaluation; IsBest when its validation loss is the lowest so
/// far.</summary>
public sealed record CheckpointReport(int Step, double ValidationLoss, bool IsBest, Action<Stream> Write);

/// <summary>What the trainer tells the outside world; implementations must be cheap (they run on the training
/// thread).</summary>
public interface ITrainingObserver
{
    void OnStep(StepReport report);
    void OnEval(EvalReport report);

    /// <summary>After each evaluation: call report.Write to save the full training state (resume point).</summary>
    void OnCheckpoint(CheckpointReport report) { }
}

public sealed record TrainingOutcome(int Steps, double FinalTrainLoss, double? FinalValidationLoss,
    double? BestValidationLoss, int StartStep, TimeSpan Elapsed);
