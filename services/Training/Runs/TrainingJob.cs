using MassTransit;
using Microsoft.Extensions.Options;
using Platform.ML;
using Platform.ServiceDefaults.Reliability;
using Platform.Storage;
using Training.Data;
using Platform.Contracts;
using Platform.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Training.Runs;

public sealed record TrainedModel(string CheckpointKey, string CheckpointSha256, long Parameters,
    TrainingOutcome Outcome);

/// <summary>Trains a run's GPT on its dataset's token files and stores the checkpoint.</summary>
public sealed class TrainingJob(ArtifactStore store, IOptions<TrainingOptions> options, MetricsWriter metrics, IBus bus,
    FaultInjector faults,
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

    /// <summary>
    /// Trains the run to its end. Checkpoints are written only while <paramref name="holdsLease"/> confirms this
    /// worker's lease, so a worker that may have lost the run never overwrites the checkpoint of the one that took it.
    /// </summary>
    public async Task<TrainedModel> RunAsync(Run run, KnownDataset dataset, Func<bool> holdsLease,
        CancellationToken cancellationToken)
    {
        var device = TorchRuntime.Initialise(options.Value.IntraOpThreads);
        var t = run.Spec.Training;
        var precision = run.Precision ?? throw new InvalidOperationException($"Run {run.Id} has no precision decided.");
        var trainerOptions = TrainerOptionsOf(run);
        if (!DatasetFormats.Trains(run.Spec.Model.Architecture, dataset.Format))
            throw new InvalidDataException($"A {run.Spec.Model.Architecture} model does not train on a dataset of " +
                $"{dataset.Format}.");

        try
        {
            // Training is CPU-bound native work: keep it off the consumer's async context.
            return await Task.Run(async () =>
            {
                torch.manual_seed(t.Seed);
                using var task = OpenTask(run, dataset, device, MixedPrecision.Parse(precision));
                // A LoRA fine-tune trains its adapters only: those are the run's parameters.
                var parameters = task.Model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
                logger.LogInformation("run {RunId}: {Architecture}, {Parameters:N0} trained parameters, {Shape}, on " +
                    "{Device}, {Precision}",
                    run.Id, run.Spec.Model.Architecture, parameters, task.Shape, device.type, precision);

                var observer = new RunProgressObserver(run, metrics, bus, store, faults, telemetry, logger, holdsLease);
                // A checkpoint left by an earlier attempt (crash, cancel, failure) is continued, not thrown away.
                await using var resume = store.Exists(run.LatestCheckpointKey) ? store.OpenRead(run.LatestCheckpointKey)
                    : null;
                var outcome = new Trainer(trainerOptions).Train(task, observer, cancellationToken, resume);
                if (outcome.StartStep > 0)
                    logger.LogInformation("run {RunId} resumed at step {Step}", run.Id, outcome.StartStep);

                if (t.Registration == Registrations.Best && store.Exists(run.BestCheckpointKey))
                {
                    await using var best = store.OpenRead(run.BestCheckpointKey);
                    var header = TrainingCheckpoint.RestoreWeights(best, task.Model, task.Config);
                    logger.LogInformation("run {RunId} registers its best weights: step {Step}, validation loss " +
                        "{Loss:F4}", run.Id, header.Step,
                        header.BestValidationLoss);
                }
                // A file of this attempt's own (its lease token): a worker that lost the run never overwrites the file
                // the one that took it registers.
                var key = $"runs/{run.Id:N}/checkpoint-{run.LeaseToken}.bin";
                await store.WriteAsync(key, s =>
                {
                    // A LoRA version's file holds its adapters and which base they adapt, never the base's weights.
                    if (task.Model is LoraGpt lora)
                        LoraCheckpoint.Save(lora.Adapter,
                            new LoraHeader(lora.Adapter.Config, lora.Adapter.Base, run.BaseCheckpointKey!,
                            run.BaseCheckpointSha256!, run.BaseModel!), s);
                    else
                        Checkpoint.Save(task.Model, s);
                    return Task.CompletedTask;
                });
                var sha = await store.Sha256Async(key, cancellationToken);
                return new TrainedModel(key, sha, parameters, outcome);
            }, cancellationToken);
        }
        finally
        {
            logger.LogInformation("run {RunId}: freed memory handed back ({How})", run.Id,
                TorchRuntime.ReleaseFreeMemory());
        }
    }

    /// <summary>
    /// Times a few training steps of the run's shape in fp32 and in bf16 on this machine (models of the run's shape,
    /// with weights of their own: the run's start is untouched, since training seeds its generator afresh).
    /// </summary>
    public Task<PrecisionTiming> TimePrecisionsAsync(Run run, KnownDataset dataset, CancellationToken cancellationToken)
        => Task.Run(() =>
        {
            var device = TorchRuntime.Initialise(options.Value.IntraOpThreads);
            // A fine-tune's base is checked once here, not in each of the trial's four rounds.
            if (run.BaseCheckpointKey is { } baseKey)
                LoadedModel.Verify(store.PathOf(baseKey), run.BaseCheckpointSha256!);
            var timing = PrecisionTrial.Measure(compute => OpenTask(run, dataset, device, compute, trial: true),
                new Trainer(TrainerOptionsOf(run)), cancellationToken);
            logger.LogInformation("run {RunId}: {Timing}", run.Id, timing.Describe());
            return timing;
        }, cancellationToken);

    /// <summary>A run counted in epochs takes its steps from the run (see <see cref="Run.PlanEpochs"/>).</summary>
    private TrainerOptions TrainerOptionsOf(Run run) =>
        TrainerOptions.From(run.Spec.Training, options.Value.LogInterval) with
        {
            MaxSteps = run.MaxSteps,
            StepsPerEpoch = run.StepsPerEpoch,
        };

    /// <summary>The steps one epoch of a spec's training split takes: its windows of blockSize tokens, or its pairs,
    /// in batches of batchSize × gradientAccumulationSteps.</summary>
    public static int StepsPerEpoch(RunSpec spec, KnownDataset dataset, ArtifactStore store)
    {
        var path = store.PathOfWithSidecar(dataset.TrainTokensKey!);
        var examples = spec.Model.Architecture == Architectures.EncoderDecoder
            ? PairFileInfo.Read(path).Count
            : EpochPlan.WindowsOf(TokenFileInfo.Read(path).Count, spec.Model.BlockSize);
        return EpochPlan.StepsPerEpoch(examples, spec.Training.BatchSize, spec.Training.GradientAccumulationSteps);
    }

    /// <summary>The shape of an encoder-decoder run on a dataset with these vocabularies and special ids.</summary>
    public static EncoderDecoderConfig EncoderDecoderConfig(RunSpec spec, int sourceVocabSize, int targetVocabSize,
        PairSpecialIds sourceSpecials,
        PairSpecialIds targetSpecials, bool shared)
    {
        var m = spec.Model;
        return new EncoderDecoderConfig(sourceVocabSize, targetVocabSize, m.NEncoderLayer, m.NDecoderLayer, m.NHead,
            m.NEmbd, m.MaxSourceLength,
            m.MaxTargetLength, sourceSpecials, targetSpecials, shared && (m.SharedEmbeddings ?? true), m.Dropout,
            m.Bias);
    }

    /// <summary>
    /// The run's model (fresh: the checkpoint, if any, is restored by the trainer) and its batches, on the device,
    /// computing in <paramref name="compute"/>. A <paramref name="trial"/> (timing steps only) skips initialising from
    /// word vectors and checking the base, which its caller checked once.
    /// </summary>
    private OpenedTask OpenTask(Run run, KnownDataset dataset, Device device, ScalarType? compute, bool trial = false)
    {
        var m = run.Spec.Model;
        var t = run.Spec.Training;
        if (m.Architecture == Architectures.EncoderDecoder)
        {
            var trainPath = store.PathOfWithSidecar(dataset.TrainTokensKey!);
            var info = PairFileInfo.Read(trainPath);
            if (m.SharedEmbeddings == true && dataset.SourceTokenizerKey is not null)
                throw new InvalidDataException("model.sharedEmbeddings needs one tokenizer for both sides; this " +
                    "dataset has one per side.");
            var config = EncoderDecoderConfig(run.Spec, info.SourceVocabSize, info.TargetVocabSize, info.SourceSpecials,
                info.TargetSpecials,
                shared: dataset.SourceTokenizerKey is null);
            var model = new EncoderDecoder(config with { ComputeType = compute });
            if (OpenBase(run, verify: !trial) is { } start)
                using (start)
                    model.LoadWeightsFrom(start as EncoderDecoder
                        ?? throw new InvalidDataException($"{run.BaseModel} is not an encoder-decoder."));
            model.to(device);
            var train = PairBatches.FromFile(trainPath, config, device);
            var validation = PairBatches.FromFile(store.PathOfWithSidecar(dataset.ValidationTokensKey!), config,
                device);
            return new OpenedTask(new EncoderDecoderTraining(model, train, validation, t.LabelSmoothing),
                $"{config.NEncoderLayer}+{config.NDecoderLayer} layers × {config.NHead} heads × {config.NEmbd}, " +
                $"sources ≤ {config.MaxSourceLength}, " +
                $"targets ≤ {config.MaxTargetLength}, vocabulary " +
                $"{config.SourceVocabSize}/{config.TargetVocabSize}{(config.SharedEmbeddings ? " shared" : "")}, " +
                $"{train.Count} train pairs", [model, train, validation]);
        }
        var baseModel = OpenBase(run, verify: !trial);
        LoraGpt? lora = null;
        // A fine-tune keeps its base's activation (an imported GPT-2 computes gelu_new).
        var gptConfig = new GptConfig(dataset.VocabSize!.Value, m.BlockSize, m.NLayer, m.NHead, m.NEmbd, m.Dropout,
            m.Bias,
            (baseModel as Gpt)?.Config.Activation ?? GptConfig.Gelu);
        var gpt = new Gpt(gptConfig with { ComputeType = compute }) { RecomputeActivations = t.RecomputeActivations };
        if (baseModel is not null)
        {
            using (baseModel)
                gpt.LoadWeightsFrom(baseModel as Gpt
                    ?? throw new InvalidDataException($"{run.BaseModel} is not a GPT."));
            if (run.Spec.FineTune is { Method: FineTuneMethods.Lora } f)
                lora = new LoraGpt(gpt,
                    new LoraAdapter(gptConfig, new LoraConfig(f.Rank, f.Alpha, f.Dropout, f.Targets.ToArray())));
        }
        else if (run.Spec.VectorsId is { } vectorsId && !trial)
            InitialiseFromVectors(run, gpt, dataset, vectorsId);
        ((nn.Module?)lora ?? gpt).to(device);
        var tokens = TokenBatches.FromFile(store.PathOfWithSidecar(dataset.TrainTokensKey!), gptConfig.BlockSize,
            device);
        var held = TokenBatches.FromFile(store.PathOfWithSidecar(dataset.ValidationTokensKey!), gptConfig.BlockSize,
            device);
        return new OpenedTask(new GptTraining(gpt, tokens, held, lora),
            $"{gptConfig.NLayer} layers × {gptConfig.NHead} heads × {gptConfig.NEmbd}, block {gptConfig.BlockSize}, " +
            $"vocabulary {gptConfig.VocabSize}" +
            (run.BaseModel is null ? "" : $", from {run.BaseModel} ({FineTuneMethodOf(lora)})"),
            [(nn.Module?)lora ?? gpt, tokens, held]);
    }

    private static string FineTuneMethodOf(LoraGpt? lora) => lora is null
        ? "full"
        : $"LoRA rank {lora.Adapter.Config.Rank}, {lora.Adapter.Parameters:N0} adapter parameters";

    /// <summary>
    /// Embedding rows whose token has a pre-trained vector start from it (a resumed run's checkpoint overwrites them
    /// anyway); the share of the vocabulary covered is the run's vectors_coverage metric.
    /// </summary>
    private void InitialiseFromVectors(Run run, Gpt gpt, KnownDataset dataset, Guid vectorsId)
    {
        var key = $"{VectorsFile.PrefixOf(vectorsId)}/vectors.txt";
        if (!store.Exists(key))
            throw new InvalidDataException($"Vectors {vectorsId} no longer exist.");
        WordVectors vectors;
        using (var reader = new StreamReader(store.OpenRead(key)))
            vectors = WordVectors.Read(reader);
        var tokenizer = TokenizerFile.Load(store.PathOf(dataset.TokenizerKey!));
        var coverage = vectors.InitialiseEmbedding(gpt, tokenizer);
        if (!store.Exists(run.LatestCheckpointKey))
            metrics.Record(run.Id, "vectors_coverage", 0, coverage);
        logger.LogInformation(
            "run {RunId}: {Covered:P1} of the vocabulary starts from {Words:N0} pre-trained vectors " +
            "of dimension {Dimension}{Projected}",
            run.Id, coverage, vectors.Vectors.Count, vectors.Dimension, vectors.Dimension == gpt.Config.NEmbd ? ""
            : $", projected to {gpt.Config.NEmbd}");
    }

    /// <summary>
    /// The model a fine-tune starts from, verified against its registered sha256 (a LoRA version merged into its base);
    /// null for a run from scratch. The caller copies its weights and disposes it.
    /// </summary>
    private nn.Module? OpenBase(Run run, bool verify = true)
    {
        if (run.BaseCheckpointKey is not { } key)
            return null;
        var path = store.PathOf(key);
        if (verify)
            LoadedModel.Verify(path, run.BaseCheckpointSha256!);
        return LoadedModel.LoadNetwork(path, store.PathOf);
    }

    /// <summary>A training task with what it holds open, and its shape in words for the log.</summary>
    private sealed class OpenedTask(ITrainingTask task, string shape, IDisposable[] owned) : ITrainingTask, IDisposable
    {
        public string Shape => shape;
        public nn.Module Model => task.Model;
        public object Config => task.Config;
        public double TokensPerBatch(int batchSize) => task.TokensPerBatch(batchSize);
        public Tensor Loss(bool fromValidation, int batchSize, Generator generator) =>
            task.Loss(fromValidation, batchSize, generator);

        public void Dispose()
        {
            foreach (var item in owned)
                item.Dispose();
        }
    }
}
