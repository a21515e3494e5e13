using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// A model and the data it learns from, as <see cref="Trainer"/> sees them: the trainer owns the optimiser, schedule,
/// clipping, evaluation, checkpoints and progress; the task draws batches and computes their loss.
/// </summary>
public interface ITrainingTask
{
    nn.Module Model { get; }

    /// <summary>The model's config record, saved in checkpoints and checked when resuming.</summary>
    object Config { get; }

    /// <summary>Tokens a batch of this size carries on average (for tokens/s and the ETA).</summary>
    double TokensPerBatch(int batchSize);

    /// <summary>Mean loss of a random batch from the train or validation split; the caller's dispose scope owns
    /// it.</summary>
    Tensor Loss(bool validation, int batchSize, Generator generator);
}

/// <summary>A GPT on random windows of a token stream; with <paramref name="lora"/>, only its adapter trains.</summary>
public sealed class GptTraining(Gpt model, TokenBatches train, TokenBatches validation,
    LoraGpt? lora = null) : ITrainingTask
{
    public nn.Module Model => (nn.Module?)lora ?? model;
    public object Config => model.Config;
    public double TokensPerBatch(int batchSize) => (double)batchSize * train.BlockSize;

    public Tensor Loss(bool fromValidation, int batchSize, Generator generator)
    {
        var (x, y) = (fromValidation ? validation : train).Sample(batchSize, generator);
        return Gpt.Loss(model.forward(x), y);
    }
}

/// <summary>An encoder-decoder on length-bucketed batches of pairs, with teacher forcing and optional label
/// smoothing.</summary>
public sealed class EncoderDecoderTraining(EncoderDecoder model, PairBatches train, PairBatches validation,
    double labelSmoothing = 0.0) : ITrainingTask
{
    public nn.Module Model => model;
    public object Config => model.Config;
    public double TokensPerBatch(int batchSize) => batchSize * train.MeanTokensPerPair;

    public Tensor Loss(bool fromValidation, int batchSize, Generator generator)
    {
        var batch = (fromValidation ? validation : train).Sample(batchSize, generator);
        // The validation loss is the plain cross-entropy, so runs with different smoothing compare.
        return model.Loss(model.forward(batch.Source, batch.DecoderInput), batch.Labels, fromValidation ? 0.0
            : labelSmoothing);
    }
}
