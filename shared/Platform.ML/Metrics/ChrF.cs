namespace Platform.ML;

/// <summary>
/// chrF as sacreBLEU computes it by default (chrF2): character n-grams of orders 1 to 6 with whitespace removed,
/// statistics summed over the corpus (each segment counted against its best-scoring reference), precision and
/// recall averaged over the orders both sides have, combined as F-β with β = 2.
/// </summary>
public static class ChrF
{
    private const int Order = 6;
    private const double Beta = 2;

    public static double Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<IReadOnlyList<string>> references)
    {
        var totals = new long[Order * 3];
        for (var i = 0; i < hypotheses.Count; i++)
        {
            var hypothesis = Strip(hypotheses[i]);
            long[]? best = null;
            var bestScore = -1.0;
            foreach (var stream in references)
            {
                var stats = Statistics(hypothesis, Strip(stream[i]));
                var score = Score(stats);
                if (score > bestScore)
                    (best, bestScore) = (stats, score);
            }
            for (var k = 0; k < totals.Length; k++)
                totals[k] += best![k];
        }
        return Score(totals);
    }

    private static string Strip(string line) =>
        string.Concat(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>(hypothesis n-grams, reference n-grams, matches) for each order.</summary>
    private static long[] Statistics(string hypothesis, string reference)
    {
        var stats = new long[Order * 3];
        for (var n = 1; n <= Order; n++)
        {
            var h = Grams(hypothesis, n);
            var r = Grams(reference, n);
            stats[3 * (n - 1)] = h.Values.Sum();
            stats[3 * (n - 1) + 1] = r.Values.Sum();
            stats[3 * (n - 1) + 2] = h.Sum(p => Math.Min(p.Value, r.GetValueOrDefault(p.Key)));
        }
        return stats;
    }

    private static Dictionary<string, int> Grams(string text, int n)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var runes = text.EnumerateRunes().Select(r => r.ToString()).ToArray();
        for (var i = 0; i + n <= runes.Length; i++)
        {
            var gram = string.Concat(runes.AsSpan(i, n));
            counts[gram] = counts.GetValueOrDefault(gram) + 1;
        }
        return counts;
    }

    private static double Score(long[] stats)
    {
        const double eps = 1e-16;
        double precision = 0, recall = 0;
        var effectiveOrder = 0;
        for (var n = 0; n < Order; n++)
        {
            var (hyp, reference, match) = (stats[3 * n], stats[3 * n + 1], stats[3 * n + 2]);
            if (hyp > 0 && reference > 0)
            {
                precision += (double)match / hyp;
                recall += (double)match / reference;
                effectiveOrder++;
            }
        }
        if (effectiveOrder == 0)
            return 0;
        (precision, recall) = (precision / effectiveOrder, recall / effectiveOrder);
        var factor = Beta * Beta;
        return precision + recall > eps ? 100 * (1 + factor) * precision * recall / (factor * precision + recall) : 0;
    }
}
