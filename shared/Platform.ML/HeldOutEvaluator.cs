using static TorchSharp.torch;

namespace Platform.ML;

public sealed record HeldOutFigures(double Loss, double Perplexity, double BitsPerByte, double Top1Accuracy,
    double Top5Accuracy, long TokensEvaluated,
    TokenClassificationFigures? Classes = null);

/// <summary>
/// Scores a model on consecutive, non-overlapping windows of the held-out split (deterministic: no sampling).
/// Bits per byte converts the mean loss per token to bits per UTF-8 byte using the split's bytes-per-token
/// ratio, so models with different tokenizers can be compared. A masked split (conversations) is scored on its
/// trained targets only: the held-out assistant tokens.
/// </summary>
public static class HeldOutEvaluator
{
    /// <param name="packed">Weights packed for decoding to compute with (null: LibTorch's products): int8 ones score
    /// what serving the model in int8 computes.</param>
    public static HeldOutFigures Evaluate(Gpt model, TokenBatches split, double bytesPerToken, int batchSize = 32,
        long maxTokens = 262_144, PackedGpt? packed = null)
    {
        model.eval();
        using var _ = no_grad();
        var block = split.BlockSize;
        var windows = Math.Max(1, Math.Min((split.Length - 1) / block, maxTokens / block));
        double lossSum = 0;
        long top1 = 0, top5 = 0, count = 0;
        var classes = new TokenClassification(model.Config.VocabSize);
        for (long first = 0; first < windows; first += batchSize)
        {
            using var scope = NewDisposeScope();
            var starts = Enumerable.Range(0, (int)Math.Min(batchSize, windows - first)).Select(i => (first + i)
                * block).ToArray();
            var (x, y) = split.At(starts);
            var logits = model.Forward(x, model.Adapter, packed);
            var flat = logits.reshape(-1, logits.shape[^1]);
            var targets = y.reshape(-1);
            if (split.IsMasked)
            {
                var kept = targets.ne(TokenBatches.IgnoredTarget).nonzero().squeeze(1);
                (flat, targets) = (flat.index_select(0, kept), targets.index_select(0, kept));
                if (targets.shape[0] == 0)
                    continue;
            }
            lossSum += nn.functional.cross_entropy(flat, targets, reduction: nn.Reduction.Sum).item<float>();
            var (_, best) = topk(flat, Math.Min(5, model.Config.VocabSize));
            var hits = best.eq(targets.unsqueeze(1));
            top1 += hits[.., 0].sum().item<long>();
            top5 += hits.any(1).sum().item<long>();
            count += targets.shape[0];
            classes.Add(flat, targets);
        }
        if (count == 0)
            throw new InvalidDataException("The held-out split has no trained tokens to score.");
        var loss = lossSum / count;
        return new HeldOutFigures(loss, Math.Exp(loss), loss / Math.Log(2) / bytesPerToken, (double)top1 / count,
            (double)top5 / count, count,
            classes.Figures());
    }
}
