using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ML;
using Platform.Storage;

namespace Evaluation.Scoring;

public sealed class EvaluationOptions
{
    public int TorchThreads { get; set; } = 1;
    /// <summary>Held-out tokens scored at most (consecutive windows from the start of the split).</summary>
    public long MaxTokens { get; set; } = 262_144;
    public int BatchSize { get; set; } = 32;
    /// <summary>Length of the sample stored with the evaluation (0 for none).</summary>
    public int SampleTokens { get; set; } = 200;
}

/// <summary>Scores a trained checkpoint on its dataset's held-out split and draws a short sample.</summary>
public sealed class CheckpointScorer(ArtifactStore store, IOptions<EvaluationOptions> options)
{
    public Task<(EvaluationFigures Figures, string? Sample)> ScoreAsync(TrainingCompleted trained, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            var o = options.Value;
            var device = TorchRuntime.Initialise(o.TorchThreads);
            using var loaded = LoadedModel.Load(store.PathOf(trained.CheckpointKey), trained.CheckpointSha256, store.PathOf(trained.TokenizerKey), device);
            using var validation = TokenBatches.FromFile(store.PathOf(trained.ValidationTokensKey), loaded.Model.Config.BlockSize, device);
            var bytesPerToken = trained.ValidationTokens > 0 && trained.ValidationBytes > 0
                ? (double)trained.ValidationBytes / trained.ValidationTokens
                : 1.0;
            var f = HeldOutEvaluator.Evaluate(loaded.Model, validation, bytesPerToken, o.BatchSize, o.MaxTokens);
            cancellationToken.ThrowIfCancellationRequested();

            string? sample = null;
            if (o.SampleTokens > 0)
            {
                // Seeded from the first held-out token, so the same checkpoint always shows the same sample.
                var (first, _) = validation.At([0]);
                var prompt = new[] { (int)first[0, 0].item<long>() };
                var ids = Sampler.Generate(loaded.Model, prompt, new SamplingOptions(o.SampleTokens, 0.8, 40, Seed: 0), cancellationToken);
                sample = loaded.Tokenizer.Decode(prompt.Concat(ids));
            }
            return (new EvaluationFigures(f.Loss, f.Perplexity, f.BitsPerByte, f.Top1Accuracy, f.Top5Accuracy, f.TokensEvaluated), sample);
        }, cancellationToken);
}
