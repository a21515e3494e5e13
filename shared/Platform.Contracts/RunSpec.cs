namespace Platform.Contracts;

/// <summary>
/// Architecture of the model to train, as a user asks for it: a decoder-only GPT ("gpt", the default; nLayer and
/// blockSize) or an encoder-decoder Transformer for paired data ("encoder-decoder"; nEncoderLayer, nDecoderLayer,
/// maxSourceLength, maxTargetLength). nHead, nEmbd, dropout and bias apply to both.
/// </summary>
public sealed record ModelSpec
{
    public string Architecture { get; init; } = Architectures.Gpt;
    public int NLayer { get; init; } = 4;
    public int NHead { get; init; } = 4;
    public int NEmbd { get; init; } = 128;
    public int BlockSize { get; init; } = 64;
    public double Dropout { get; init; }
    public bool Bias { get; init; } = true;
    public int NEncoderLayer { get; init; } = 2;
    public int NDecoderLayer { get; init; } = 2;
    /// <summary>Source tokens the encoder takes, its &lt;/s&gt; included; longer sources are cut.</summary>
    public int MaxSourceLength { get; init; } = 64;
    /// <summary>Decoder positions: the target and its &lt;s&gt; (or &lt;/s&gt;); longer targets are cut.</summary>
    public int MaxTargetLength { get; init; } = 64;
    /// <summary>One embedding for source and target: null follows the dataset's tokenizer (shared when it
    /// is).</summary>
    public bool? SharedEmbeddings { get; init; }
}

public static class Architectures
{
    public const string Gpt = "gpt", EncoderDecoder = "encoder-decoder";
    public static readonly IReadOnlyList<string> Supported = [Gpt, EncoderDecoder];

    /// <summary>The architecture that trains on a dataset of this format.</summary>
    public static string For(string format) => format == DatasetFormats.Pairs ? EncoderDecoder : Gpt;
}

/// <summary>What a dataset holds: running text, source/target pairs (JSON lines or two-column TSV), or conversations
/// (JSON lines in OpenAI's fine-tuning format).</summary>
public static class DatasetFormats
{
    public const string Text = "text", Pairs = "pairs", Chat = "chat";
    public static readonly IReadOnlyList<string> Supported = [Text, Pairs, Chat];

    /// <summary>The dataset format an architecture trains on first (a GPT also trains on conversations).</summary>
    public static string For(string architecture) => architecture == Architectures.EncoderDecoder ? Pairs : Text;

    /// <summary>Whether a model of <paramref name="architecture"/> trains (and is evaluated) on a dataset of
    /// <paramref name="format"/>.</summary>
    public static bool Trains(string architecture, string format) =>
        architecture == Architectures.EncoderDecoder ? format == Pairs : format is Text or Chat;

    /// <summary>The formats a model of <paramref name="architecture"/> trains on, in words.</summary>
    public static string TrainedBy(string architecture) =>
        string.Join(" or ", Supported.Where(f => Trains(architecture, f)));

    /// <summary>Whether the dataset's splits are stored as JSON lines (pairs, conversations) rather than
    /// text.</summary>
    public static bool IsJsonLines(string format) => format is Pairs or Chat;
}

/// <summary>Optimisation settings of a training run (nanoGPT names, camelCase on the wire).</summary>
public sealed record TrainingSpec
{
    public int MaxSteps { get; init; } = 2000;
    /// <summary>
    /// Passes over the training split; when set, they decide the run's steps and maxSteps is ignored. An epoch is as
    /// many steps as it takes batches of batchSize × gradientAccumulationSteps windows of blockSize tokens (of pairs,
    /// for an encoder-decoder) to cover the split once (<see cref="EpochPlan"/>), counted when the run starts. Each
    /// epoch ends with an evaluation.
    /// </summary>
    public int? Epochs { get; init; }
    public int BatchSize { get; init; } = 12;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Floor of the cosine decay; defaults to learningRate / 10.</summary>
    public double? MinLearningRate { get; init; }
    public static double DefaultMinLearningRate(double learningRate) => learningRate / 10;
    public int WarmupSteps { get; init; } = 100;
    public double WeightDecay { get; init; } = 0.1;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.99;
    public double GradClip { get; init; } = 1.0;
    /// <summary>Micro-batches per optimiser step (effective batch = batchSize × this).</summary>
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>Recompute activations in the backward pass: far less memory for large blocks, about a third more
    /// compute.</summary>
    public bool RecomputeActivations { get; init; }
    /// <summary>
    /// "auto" (the default): the worker trains in whichever of fp32 and bf16 is faster for this shape on its machine,
    /// measured there once and remembered, and records which and why. "fp32"; or "bf16": matmuls and attention in
    /// bfloat16 with fp32 master weights, LayerNorm and loss (half the activation memory; faster where the hardware
    /// computes in bf16 fast enough, which depends on the CPU: docs/benchmarks.md).
    /// </summary>
    public string Precision { get; init; } = Precisions.Auto;
    public int EvalInterval { get; init; } = 250;
    public int EvalIters { get; init; } = 20;
    public int Seed { get; init; } = 1337;
    /// <summary>Encoder-decoder: the share ε of the target distribution spread evenly over the vocabulary (0 for
    /// none).</summary>
    public double LabelSmoothing { get; init; }
    /// <summary>
    /// What is registered when the run ends: "last" (the weights after the last step; null means this) or "best" (the
    /// weights at the evaluation with the lowest validation loss).
    /// </summary>
    public string? Registration { get; init; }
}

/// <summary>How many optimiser steps an epoch of a training split takes.</summary>
public static class EpochPlan
{
    /// <summary>The steps that cover <paramref name="examples"/> rows (windows or pairs) once: the last one may be a
    /// partial batch's worth, so it rounds up; at least one.</summary>
    public static int StepsPerEpoch(long examples, int batchSize, int gradientAccumulationSteps)
    {
        var rowsPerStep = (long)Math.Max(1, batchSize) * Math.Max(1, gradientAccumulationSteps);
        return (int)Math.Clamp((examples + rowsPerStep - 1) / rowsPerStep, 1, int.MaxValue);
    }

    /// <summary>The windows of <paramref name="blockSize"/> predicted tokens that cover a split of
    /// <paramref name="tokens"/> once (a window of blockSize + 1 tokens predicts blockSize of them).</summary>
    public static long WindowsOf(long tokens, int blockSize) =>
        Math.Max(1, (Math.Max(0, tokens - 1) + blockSize - 1) / Math.Max(1, blockSize));

    /// <summary>The 1-based epoch that step <paramref name="step"/> (0-based) belongs to.</summary>
    public static int EpochOf(int step, int stepsPerEpoch) => step / Math.Max(1, stepsPerEpoch) + 1;
}

public static class Registrations
{
    public const string Last = "last", Best = "best";
    public static readonly IReadOnlyList<string> Supported = [Last, Best];
}

public static class Precisions
{
    public const string Auto = "auto", Fp32 = "fp32", Bf16 = "bf16";
    public static readonly IReadOnlyList<string> Supported = [Auto, Fp32, Bf16];
    /// <summary>The precisions a run computes in ("auto" chooses one of them).</summary>
    public static readonly IReadOnlyList<string> Computed = [Fp32, Bf16];
}

/// <summary>Everything needed to start a run; the run's Name is the registered model's name.</summary>
public sealed record RunSpec
{
    public string Name { get; init; } = "";
    public ModelSpec Model { get; init; } = new();
    public TrainingSpec Training { get; init; } = new();
    /// <summary>Start from a registered version's weights (and its tokenizer) instead of random ones.</summary>
    public InitFromSpec? InitFrom { get; init; }
    /// <summary>How a run that starts from a version adapts it: all weights (the default) or LoRA adapters.</summary>
    public FineTuneSpec? FineTune { get; init; }
    /// <summary>Train on the dataset encoded with this tokenizer (another dataset's) instead of the dataset's
    /// own.</summary>
    public Guid? TokenizerId { get; init; }
    /// <summary>Initialise the token embedding from these uploaded word vectors (POST /api/vectors) where a token has
    /// one.</summary>
    public Guid? VectorsId { get; init; }

    /// <summary>The same spec, training in the given precision.</summary>
    public RunSpec WithPrecision(string precision) => this with { Training = Training with { Precision = precision } };

    /// <summary>The same spec, training for the given number of steps.</summary>
    public RunSpec WithMaxSteps(int steps) => this with { Training = Training with { MaxSteps = steps } };
}

/// <summary>The version a run starts from: "name" (latest) or "name/versions/N".</summary>
public sealed record InitFromSpec
{
    public string Model { get; init; } = "";
}

/// <summary>
/// Fine-tuning method: "full" trains every weight; "lora" freezes the base and trains rank-r adapters scaled by alpha/r
/// on the attention's and/or the MLP's projections ("attn", "mlp"), with dropout on the adapters' input.
/// </summary>
public sealed record FineTuneSpec
{
    public string Method { get; init; } = FineTuneMethods.Full;
    public int Rank { get; init; } = 8;
    public double Alpha { get; init; } = 16;
    public double Dropout { get; init; }
    public IReadOnlyList<string> Targets { get; init; } = ["attn"];
}

public static class FineTuneMethods
{
    public const string Full = "full", Lora = "lora";
    public static readonly IReadOnlyList<string> Supported = [Full, Lora];
    public static readonly IReadOnlyList<string> LoraTargets = ["attn", "mlp"];
    public const int MaxRank = 256;
}

/// <summary>Which tokenizer to build for a dataset (byte-level BPE unless asked otherwise).</summary>
public sealed record TokenizerSpec
{
    public const int DefaultVocabSize = 8192, MaxVocabSize = 1_000_000;

    public string Kind { get; init; } = TokenizerKinds.Bpe;
    /// <summary>BPE: vocabulary size including the 256 byte tokens and the special tokens.</summary>
    public int VocabSize { get; init; } = DefaultVocabSize;
    /// <summary>BPE and WordPiece: a pair seen fewer times than this is never merged (training may stop below
    /// VocabSize).</summary>
    public int MinFrequency { get; init; } = 2;
    /// <summary>Null: the kind's own (BPE &lt;|endoftext|&gt;; WordPiece [PAD] [UNK] [CLS] [SEP] [MASK]).</summary>
    public IReadOnlyList<string>? SpecialTokens { get; init; }
    /// <summary>WordPiece: lower-case and strip accents first (BERT uncased).</summary>
    public bool Lowercase { get; init; } = true;
    /// <summary>Kind "uploaded": the artifact key of the tokenizer file sent with the dataset.</summary>
    public string? FileKey { get; init; }
    /// <summary>Paired datasets: one tokenizer over both sides (true), or one per side.</summary>
    public bool Shared { get; init; } = true;
}

public static class TokenizerKinds
{
    /// <summary>The kinds the platform trains (Platform.Tokenizers' TokenizerKindRegistry holds them); "uploaded" is
    /// set by the platform when a tokenizer file comes with the data.</summary>
    public const string Char = "char", Bpe = "bpe", WordPiece = "wordpiece", Uploaded = "uploaded";
}
