using MassTransit;
using Microsoft.Extensions.Options;
using Platform.ML;
using Platform.ServiceDefaults.Reliability;
using Platform.Storage;
using Training.Data;
using TorchSharp;

namespace Training.Runs;

public sealed record TrainedModel(string CheckpointKey, string CheckpointSha256, long Parameters, TrainingOutcome Outcome);

/// <summary>Trains a run's GPT on its dataset's token files and stores the checkpoint.</summary>
public sealed class TrainingJob(ArtifactStore store, IOptions<TrainingOptions> options, MetricsWriter metrics, IBus bus, FaultInjector faults,
    TrainingTelemetry telemetry, ILogger<TrainingJob> logger)
{
    /// <summary>The step a run would resume from (its latest checkpoint), or null when it starts afresh.</summary>
    public int? ResumableStep(Run run)
    {
        if (!store.Exists(run.LatestCheckpointKey))
            return null;
        using var stream = store.OpenRead(run.LatestCheckpointKey);
        return TrainingCheckpoint.ReadHeader(stream).Step;
    }

    public async Task<TrainedModel> RunAsync(Run run, KnownDataset dataset, CancellationToken cancellationToken)
    {
        var device = TorchRuntime.Initialise(options.Value.TorchThreads);
        var m = run.Spec.Model;
        var t = run.Spec.Training;
        var config = new GptConfig(dataset.VocabSize!.Value, m.BlockSize, m.NLayer, m.NHead, m.NEmbd, m.Dropout, m.Bias);
        var trainerOptions = new TrainerOptions
        {
            MaxSteps = t.MaxSteps,
            BatchSize = t.BatchSize,
            LearningRate = t.LearningRate,
            MinLearningRate = t.MinLearningRate ?? t.LearningRate / 10,
            WarmupSteps = Math.Min(t.WarmupSteps, t.MaxSteps),
            WeightDecay = t.WeightDecay,
            Beta1 = t.Beta1,
            Beta2 = t.Beta2,
            GradClip = t.GradClip,
            GradientAccumulationSteps = t.GradientAccumulationSteps,
            EvalInterval = t.EvalInterval,
            EvalIters = t.EvalIters,
            LogInterval = Math.Max(1, options.Value.LogInterval),
            Seed = t.Seed,
        };

        try
        {
            // Training is CPU-bound native work: keep it off the consumer's async context.
            return await Task.Run(async () =>
            {
                torch.manual_seed(t.Seed);
                using var model = new Gpt(config) { RecomputeActivations = t.RecomputeActivations, ComputeType = MixedPrecision.Parse(t.Precision) };
                model.to(device);
                using var train = TokenBatches.FromFile(store.PathOf(dataset.TrainTokensKey!), config.BlockSize, device);
                using var validation = TokenBatches.FromFile(store.PathOf(dataset.ValidationTokensKey!), config.BlockSize, device);
                var parameters = model.parameters().Sum(p => p.numel());
                logger.LogInformation("run {RunId}: {Parameters:N0} parameters, {Layers} layers × {Heads} heads × {Embd}, block {Block}, vocabulary {Vocab}, on {Device}, {Precision}",
                    run.Id, parameters, config.NLayer, config.NHead, config.NEmbd, config.BlockSize, config.VocabSize, device.type, t.Precision);

                var observer = new RunProgressObserver(run, metrics, bus, store, faults, telemetry, logger);
                // A checkpoint left by an earlier attempt (crash, cancel, failure) is continued, not thrown away.
                await using var resume = store.Exists(run.LatestCheckpointKey) ? store.OpenRead(run.LatestCheckpointKey) : null;
                var outcome = new Trainer(trainerOptions).Train(model, train, validation, observer, cancellationToken, resume);
                if (outcome.StartStep > 0)
                    logger.LogInformation("run {RunId} resumed at step {Step}", run.Id, outcome.StartStep);

                var key = $"runs/{run.Id:N}/checkpoint.bin";
                await store.WriteAsync(key, s => { Checkpoint.Save(model, s); return Task.CompletedTask; });
                var sha = await store.Sha256Async(key, cancellationToken);
                return new TrainedModel(key, sha, parameters, outcome);
            }, cancellationToken);
        }
        finally
        {
            logger.LogInformation("run {RunId}: freed memory handed back ({How})", run.Id, TorchRuntime.ReleaseFreeMemory());
        }
    }
}
