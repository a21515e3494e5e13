namespace Platform.ML;

public sealed record TrainerOptions
{
    public int MaxSteps { get; init; } = 2000;
    public int BatchSize { get; init; } = 12;
    public double LearningRate { get; init; } = 1e-3;
    public double MinLearningRate { get; init; } = 1e-4;
    public int WarmupSteps { get; init; } = 100;
    public double WeightDecay { get; init; } = 0.1;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.99;
    public double GradClip { get; init; } = 1.0;
    /// <summary>Micro-batches per optimiser step: the step sees GradientAccumulationSteps × BatchSize windows.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;
    public int EvalInterval { get; init; } = 250;
    public int EvalIters { get; init; } = 20;
    public int LogInterval { get; init; } = 10;
    public int Seed { get; init; } = 1337;

    public LearningRateSchedule Schedule => new(LearningRate, MinLearningRate, WarmupSteps, MaxSteps);
}

/// <summary>TokensPerStep: the token positions one optimiser step processes (for pairs, their mean count per batch).</summary>
public sealed record StepReport(int Step, int MaxSteps, double Loss, double LearningRate, double GradNorm, double TokensPerSecond, double EtaSeconds,
    double TokensPerStep);

public sealed record EvalReport(int Step, double TrainLoss, double ValidationLoss);

/// <summary>A training state to save after an evaluation; IsBest when its validation loss is the lowest so far.</summary>
public sealed record CheckpointReport(int Step, double ValidationLoss, bool IsBest, Action<Stream> Write);

/// <summary>What the trainer tells the outside world; implementations must be cheap (they run on the training thread).</summary>
public interface ITrainingObserver
{
    void OnStep(StepReport report);
    void OnEval(EvalReport report);

    /// <summary>After each evaluation: call report.Write to save the full training state (resume point).</summary>
    void OnCheckpoint(CheckpointReport report) { }
}

public sealed record TrainingOutcome(int Steps, double FinalTrainLoss, double? FinalValidationLoss, double? BestValidationLoss, int StartStep, TimeSpan Elapsed);
