using static TorchSharp.torch;

namespace Platform.ML;

public sealed record PairFigures(double Loss, double Top1Accuracy, double Top5Accuracy,
    TokenClassificationFigures Classes, long TokensEvaluated,
    int PairsEvaluated);

/// <summary>
/// Scores an encoder-decoder on held-out pairs (in file order, deterministic): teacher-forced cross-entropy,
/// top-1/top-5 and the token-class figures over every real target position (its &lt;/s&gt; included), and decodes
/// sources for the sequence metrics.
/// </summary>
public static class PairEvaluator
{
    public static PairFigures Score(EncoderDecoder model, PairBatches pairs, int batchSize = 32, int maxPairs = 2000)
    {
        model.eval();
        using var _ = no_grad();
        var count = Math.Min(pairs.Count, maxPairs);
        var vocab = model.Config.TargetVocabSize;
        var pad = model.Config.TargetSpecials.Pad;
        var classes = new TokenClassification(vocab);
        double lossSum = 0;
        long top1 = 0, top5 = 0, tokens = 0;
        for (var first = 0; first < count; first += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = pairs.At(Enumerable.Range(first, Math.Min(batchSize, count - first)).ToArray());
            var logits = model.forward(batch.Source, batch.DecoderInput);
            var real = batch.Labels.ne(pad);
            var flat = logits[real];
            var targets = batch.Labels[real];
            lossSum += nn.functional.cross_entropy(flat, targets, reduction: nn.Reduction.Sum).item<float>();
            var (_, best) = topk(flat, Math.Min(5, vocab));
            var hits = best.eq(targets.unsqueeze(1));
            top1 += hits[.., 0].sum().item<long>();
            top5 += hits.any(1).sum().item<long>();
            tokens += targets.shape[0];
            classes.Add(flat, targets);
        }
        return new PairFigures(lossSum / tokens, (double)top1 / tokens, (double)top5 / tokens, classes.Figures(),
            tokens, count);
    }

    /// <summary>Beam-search outputs (target ids, no special tokens) for the first maxPairs sources.</summary>
    public static List<int[]> Decode(EncoderDecoder model, PairBatches pairs, BeamSearchOptions options, int maxPairs,
        CancellationToken cancellationToken = default)
    {
        var outputs = new List<int[]>();
        var eos = model.Config.SourceSpecials.Eos;
        var limit = model.Config.MaxSourceLength - 1;
        for (var i = 0; i < Math.Min(pairs.Count, maxPairs); i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (source, _) = pairs.Pair(i);
            using var session = new EncoderDecoderSession(model, [.. source.Take(limit), eos]);
            outputs.Add(BeamSearch.Search(session, model.Config.TargetSpecials, options, cancellationToken).Tokens);
        }
        return outputs;
    }
}
