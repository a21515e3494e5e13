using System.Text.RegularExpressions;

namespace Platform.Contracts;

/// <summary>
/// The documented limits of a run. Field paths are the JSON paths of the request ("model.nHead"), prefixed
/// when the spec is nested (e.g. "autoTrain.").
/// </summary>
public static partial class RunSpecValidator
{
    public const int MaxLayers = 48, MaxHeads = 64, MaxEmbedding = 4096, MaxBlockSize = 4096;
    public const int MaxSteps = 1_000_000, MaxEpochs = 10_000;
    public const int MaxBatchSize = 1024, MaxEvalIters = 1000, MaxAccumulationSteps = 256;
    public const long MaxTokensPerStep = 262_144;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex ModelName();

    /// <summary>A model name: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.</summary>
    public static bool IsModelName(string? name) => ModelName().IsMatch(name ?? "");

    /// <summary>What a field holding a model name (or a run's or an experiment's) is told when it holds none.</summary>
    public const string ModelNameRule =
        "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit.";

    public static ValidationErrors Validate(RunSpec? spec, string prefix = "", ValidationErrors? errors = null)
    {
        errors ??= new ValidationErrors();
        if (spec is null)
            return errors.Add(prefix.TrimEnd('.') is { Length: > 0 } p ? p : "body", "is required.");

        errors.Require(IsModelName(spec.Name), prefix + "name", ModelNameRule);

        var m = spec.Model;
        if (m is null)
            errors.Add(prefix + "model", "is required.");
        else
        {
            errors.Require(Architectures.Supported.Contains(m.Architecture ?? ""), prefix + "model.architecture",
                $"must be one of: {string.Join(", ", Architectures.Supported)} (got '{m.Architecture}').");
            errors.Range(m.NLayer, 1, MaxLayers, prefix + "model.nLayer");
            errors.Range(m.NHead, 1, MaxHeads, prefix + "model.nHead");
            errors.Range(m.NEmbd, 1, MaxEmbedding, prefix + "model.nEmbd");
            if (m.NHead > 0 && m.NEmbd > 0 && m.NEmbd % m.NHead != 0)
                errors.Add(prefix + "model.nHead", $"must divide nEmbd ({m.NEmbd}) evenly.");
            errors.Range(m.BlockSize, 2, MaxBlockSize, prefix + "model.blockSize");
            errors.Require(m.Dropout >= 0 && m.Dropout < 1, prefix + "model.dropout",
                $"must be at least 0 and below 1 (got {m.Dropout}).");
            if (m.Architecture == Architectures.EncoderDecoder)
            {
                errors.Range(m.NEncoderLayer, 1, MaxLayers, prefix + "model.nEncoderLayer");
                errors.Range(m.NDecoderLayer, 1, MaxLayers, prefix + "model.nDecoderLayer");
                errors.Range(m.MaxSourceLength, 2, MaxBlockSize, prefix + "model.maxSourceLength");
                errors.Range(m.MaxTargetLength, 2, MaxBlockSize, prefix + "model.maxTargetLength");
            }
        }

        var t = spec.Training;
        if (t is null)
            errors.Add(prefix + "training", "is required.");
        else
        {
            errors.Range(t.MaxSteps, 1, MaxSteps, prefix + "training.maxSteps");
            if (t.Epochs is { } epochs)
                errors.Range(epochs, 1, MaxEpochs, prefix + "training.epochs");
            errors.Range(t.BatchSize, 1, MaxBatchSize, prefix + "training.batchSize");
            errors.Range(t.LearningRate, 0, 1, prefix + "training.learningRate", minExclusive: true);
            if (t.MinLearningRate is { } min)
                errors.Range(min, 0, Math.Max(0, t.LearningRate), prefix + "training.minLearningRate");
            // A warmup longer than the run is capped at maxSteps when training, so the default never invalidates a
            // short run.
            errors.Range(t.WarmupSteps, 0, MaxSteps, prefix + "training.warmupSteps");
            errors.Range(t.WeightDecay, 0, 1, prefix + "training.weightDecay");
            errors.Require(t.Beta1 >= 0 && t.Beta1 < 1, prefix + "training.beta1",
                $"must be at least 0 and below 1 (got {t.Beta1}).");
            errors.Require(t.Beta2 >= 0 && t.Beta2 < 1, prefix + "training.beta2",
                $"must be at least 0 and below 1 (got {t.Beta2}).");
            errors.Range(t.GradClip, 0, 1e6, prefix + "training.gradClip", minExclusive: true);
            errors.Range(t.GradientAccumulationSteps, 1, MaxAccumulationSteps, prefix
                + "training.gradientAccumulationSteps");
            errors.Require(t.Registration is null || Registrations.Supported.Contains(t.Registration), prefix
                + "training.registration",
                $"must be one of: {string.Join(", ", Registrations.Supported)} (got '{t.Registration}').");
            errors.Require(Precisions.Supported.Contains(t.Precision ?? ""), prefix + "training.precision",
                $"must be one of: {string.Join(", ", Precisions.Supported)} (got '{t.Precision}').");
            errors.Range(t.EvalInterval, 1, MaxSteps, prefix + "training.evalInterval");
            errors.Range(t.EvalIters, 1, MaxEvalIters, prefix + "training.evalIters");
            errors.Range(t.Seed, 0, int.MaxValue, prefix + "training.seed");
            errors.Require(t.LabelSmoothing >= 0 && t.LabelSmoothing < 1, prefix + "training.labelSmoothing",
                $"must be at least 0 and below 1 (got {t.LabelSmoothing}).");
            if (m is not null && m.Architecture != Architectures.EncoderDecoder && (long)t.BatchSize
                * m.BlockSize > MaxTokensPerStep)
                errors.Add(prefix + "training.batchSize",
                    $"batchSize × blockSize must be at most {MaxTokensPerStep:N0} tokens per step.");
            if (m is not null && m.Architecture == Architectures.EncoderDecoder && (long)t.BatchSize
                * (m.MaxSourceLength + m.MaxTargetLength) > MaxTokensPerStep)
                errors.Add(prefix + "training.batchSize",
                    $"batchSize × (maxSourceLength + maxTargetLength) must be at most {MaxTokensPerStep:N0} tokens " +
                    $"per step.");
        }

        if (spec.VectorsId is not null && spec.InitFrom is not null)
            errors.Add(prefix + "vectorsId",
                "initialises a run from scratch; a fine-tune starts from its base's embedding.");
        if (spec.InitFrom is { } init)
            errors.Require(ModelReference.Parse(init.Model) is not null, prefix + "initFrom.model",
                $"must be {ModelReference.Forms}.");
        if (spec.FineTune is { } f)
        {
            errors.Require(spec.InitFrom is not null, prefix + "fineTune",
                "applies to a run that starts from a version: set initFrom.");
            errors.Require(FineTuneMethods.Supported.Contains(f.Method ?? ""), prefix + "fineTune.method",
                $"must be one of: {string.Join(", ", FineTuneMethods.Supported)} (got '{f.Method}').");
            if (f.Method == FineTuneMethods.Lora)
            {
                errors.Range(f.Rank, 1, FineTuneMethods.MaxRank, prefix + "fineTune.rank");
                errors.Require(f.Alpha > 0 && f.Alpha <= 1e4, prefix + "fineTune.alpha",
                    $"must be above 0 and at most 10000 (got {f.Alpha}).");
                errors.Require(f.Dropout >= 0 && f.Dropout < 1, prefix + "fineTune.dropout",
                    $"must be at least 0 and below 1 (got {f.Dropout}).");
                errors.Require(f.Targets is { Count: > 0 } targets && targets.All(FineTuneMethods.LoraTargets.Contains)
                    && targets.Distinct().Count() == targets.Count,
                    prefix + "fineTune.targets",
                    $"must name one or both of: {string.Join(", ", FineTuneMethods.LoraTargets)}.");
                errors.Require(m?.Architecture != Architectures.EncoderDecoder, prefix + "fineTune.method",
                    "LoRA adapts GPT models; fine-tune an encoder-decoder with \"full\".");
            }
        }
        return errors;
    }
}
