using System.Globalization;

namespace Platform.ML;

/// <summary>A corpus BLEU score with its parts, printed as sacreBLEU prints it.</summary>
public sealed record BleuScore(double Score, double[] Precisions, double BrevityPenalty, long HypothesisLength,
    long ReferenceLength)
{
    public override string ToString()
    {
        var invariant = CultureInfo.InvariantCulture;
        var precisions = string.Join('/', Precisions.Select(p => p.ToString("F1", invariant)));
        var ratio = (double)HypothesisLength / ReferenceLength;
        return string.Create(invariant, $"BLEU = {Score:F2} {precisions} (BP = {BrevityPenalty:F3} ") +
            string.Create(invariant, $"ratio = {ratio:F3} hyp_len = {HypothesisLength} ref_len = {ReferenceLength})");
    }
}

/// <summary>
/// Corpus BLEU as sacreBLEU computes it by default: n-grams up to 4 with counts clipped by the most any reference
/// has, the closest reference length for the brevity penalty (the shorter on a tie), "exp" smoothing for an order
/// with no match, mixed case.
/// </summary>
public static class Bleu
{
    private const int MaxOrder = 4;

    /// <param name="hypotheses">One output per segment.</param>
    /// <param name="references">Reference streams: references[r][i] is the r-th reference of segment i.</param>
    public static BleuScore Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<IReadOnlyList<string>> references,
        string tokenize = BleuTokenizers.Thirteen)
    {
        var correct = new long[MaxOrder];
        var total = new long[MaxOrder];
        long hypothesisLength = 0, referenceLength = 0;
        for (var i = 0; i < hypotheses.Count; i++)
        {
            var hypothesis = BleuTokenizers.Tokenize(hypotheses[i], tokenize);
            var refs = references.Select(stream => BleuTokenizers.Tokenize(stream[i], tokenize)).ToList();
            hypothesisLength += hypothesis.Length;
            referenceLength += refs.Select(r => r.Length).OrderBy(l => Math.Abs(l - hypothesis.Length)).ThenBy(l =>
                l).First();
            for (var n = 1; n <= MaxOrder; n++)
            {
                var counts = NGrams(hypothesis, n);
                var maxReference = new Dictionary<string, int>();
                foreach (var r in refs)
                    foreach (var (gram, count) in NGrams(r, n))
                        maxReference[gram] = Math.Max(maxReference.GetValueOrDefault(gram), count);
                foreach (var (gram, count) in counts)
                    correct[n - 1] += Math.Min(count, maxReference.GetValueOrDefault(gram));
                total[n - 1] += Math.Max(0, hypothesis.Length - n + 1);
            }
        }
        var precisions = new double[MaxOrder];
        var smooth = 1.0;
        for (var n = 0; n < MaxOrder; n++)
        {
            if (total[n] == 0)
                break;
            if (correct[n] == 0)
            {
                smooth *= 2;
                precisions[n] = 100.0 / (smooth * total[n]);
            }
            else
                precisions[n] = 100.0 * correct[n] / total[n];
        }
        var brevity = hypothesisLength >= referenceLength ? 1.0 : hypothesisLength > 0
            ? Math.Exp(1 - (double)referenceLength / hypothesisLength) : 0.0;
        // exp(mean log 100) rounds to 100.00000000000004: a perfect score is 100.
        var score = precisions.Any(p => p == 0) ? 0.0
            : Math.Min(100.0, brevity * Math.Exp(precisions.Average(p => Math.Log(p))));
        return new BleuScore(score, precisions, brevity, hypothesisLength, referenceLength);
    }

    private static Dictionary<string, int> NGrams(string[] words, int n)
    {
        var counts = new Dictionary<string, int>();
        for (var i = 0; i + n <= words.Length; i++)
        {
            var gram = string.Join(' ', words, i, n);
            counts[gram] = counts.GetValueOrDefault(gram) + 1;
        }
        return counts;
    }
}
