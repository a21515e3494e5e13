using System.Text;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ML;
using Platform.Storage;

namespace Evaluation.Scoring;

/// <summary>
/// Scores a trained checkpoint on its dataset's held-out split and keeps a short sample. A GPT is scored on windows of
/// the token stream and samples a continuation (on conversations: over the assistant's tokens, and by its greedy
/// replies to each conversation's last turn, for BLEU, chrF and exact match); an encoder-decoder is scored
/// teacher-forced on the held-out pairs, then decodes their sources with beam search for BLEU, chrF and exact match,
/// and shows its first output.
/// </summary>
public sealed class CheckpointScorer(ArtifactStore store, IOptions<EvaluationOptions> options)
{
    public Task<(EvaluationFigures Figures, string? Sample)> ScoreAsync(EvaluationTarget trained,
        CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            var device = TorchRuntime.Initialise(options.Value.TorchThreads);
            using var loaded = LoadedModel.Load(store.PathOf(trained.CheckpointKey), trained.CheckpointSha256,
                store.PathOf(trained.TokenizerKey), device,
                trained.SourceTokenizerKey is { } source ? store.PathOf(source) : null, store.PathOf);
            return loaded.EncoderDecoder is { } model
                ? ScorePairs(loaded, model, trained, device, cancellationToken)
                : ScoreText(loaded, trained, device, cancellationToken);
        }, cancellationToken);

    private (EvaluationFigures, string?) ScoreText(LoadedModel loaded, EvaluationTarget trained,
        TorchSharp.torch.Device device, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var path = store.PathOfWithSidecar(trained.ValidationKey);
        using var validation = TokenBatches.FromFile(path, loaded.Model.Config.BlockSize, device);
        var bytesPerToken = trained.ValidationTokens > 0 && trained.ValidationBytes > 0
            ? (double)trained.ValidationBytes / trained.ValidationTokens
            : 1.0;
        var f = HeldOutEvaluator.Evaluate(loaded.Model, validation, bytesPerToken, o.BatchSize, o.MaxTokens);
        cancellationToken.ThrowIfCancellationRequested();
        double? int8Loss = null;
        // Computed by the int8 kernel itself, so it is what serving the version in int8 computes; a model that cannot
        // be served in int8 (bf16, on a GPU, or a CPU without AVX2) has none.
        if (o.Int8Loss && PackedGpt.Supports(loaded.Model) && PackedInt8Linear.IsSupported)
            using (var int8 = new PackedGpt(loaded.Model, o.TorchThreads, int8: true))
                int8Loss = HeldOutEvaluator.Evaluate(loaded.Model, validation, bytesPerToken, o.BatchSize, o.MaxTokens,
                    int8).Loss;
        cancellationToken.ThrowIfCancellationRequested();

        // Conversations: the greedy reply to each held-out conversation's last turn, against the one in the data.
        DecodedPairs? replies = null;
        if (validation.IsMasked)
            replies = HeldOutReplies.Decode(loaded.Model, loaded.Tokenizer, HeldOutReplies.LastTurns(path, o.MaxPairs),
                loaded.Utf8, cancellationToken);

        string? sample = null;
        if (replies is { Hypotheses.Count: > 0 })
            sample = $"{replies.References[0]} → {replies.Hypotheses[0]}";
        else if (o.SampleTokens > 0)
        {
            // Seeded from the first held-out token, so the same checkpoint always shows the same sample.
            var (first, _) = validation.At([0]);
            var prompt = new[] { (int)first[0, 0].item<long>() };
            var ids = Sampler.Generate(loaded.Model, prompt, new SamplingOptions(o.SampleTokens, 0.8, 40, Seed: 0),
                cancellationToken, utf8: loaded.Utf8);
            sample = loaded.Tokenizer.Decode(prompt.Concat(ids));
        }
        return (EvaluationMetrics.Score(new ScoredPass(f, replies, int8Loss)), sample);
    }

    private (EvaluationFigures, string?) ScorePairs(LoadedModel loaded, EncoderDecoder model, EvaluationTarget trained,
        TorchSharp.torch.Device device,
        CancellationToken cancellationToken)
    {
        var o = options.Value;
        using var pairs = PairBatches.FromFile(store.PathOfWithSidecar(trained.ValidationKey), model.Config, device);
        var f = PairEvaluator.Score(model, pairs, o.BatchSize, o.MaxPairs);
        cancellationToken.ThrowIfCancellationRequested();
        var outputs = PairEvaluator.Decode(model, pairs,
            new BeamSearchOptions(o.NumBeams, model.Config.MaxTargetLength - 1, EarlyStopping: true),
            o.MaxPairs, cancellationToken);
        var hypotheses = outputs.Select(ids => loaded.Tokenizer.Decode(ids)).ToList();
        var targets = Enumerable.Range(0, outputs.Count).Select(i => pairs.Pair(i).Target).ToList();
        var references = targets.Select(ids => loaded.Tokenizer.Decode(ids)).ToList();
        // Bits per byte of the targets: the loss per target position over the UTF-8 bytes each position stands for.
        var targetBytes = references.Sum(r => Encoding.UTF8.GetByteCount(r)) + outputs.Count;
        var targetPositions = targets.Sum(ids => ids.Length + 1);
        var sample = outputs.Count == 0 ? null
            : $"{loaded.SourceTokenizer.Decode(pairs.Pair(0).Source)} → {hypotheses[0]}";
        var tokens = new HeldOutFigures(f.Loss, Math.Exp(f.Loss),
            f.Loss / Math.Log(2) / ((double)targetBytes / targetPositions), f.Top1Accuracy, f.Top5Accuracy,
            f.TokensEvaluated, f.Classes);
        return (EvaluationMetrics.Score(new ScoredPass(tokens, new DecodedPairs(hypotheses, references))), sample);
    }
}
