using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// numBeams hypotheses kept per step. LengthPenalty α scores a finished hypothesis as its summed log-probability
/// divided by length^α (length counts its tokens and &lt;/s&gt;), so α above 0 favours longer outputs. EarlyStopping
/// stops as soon as numBeams hypotheses have finished; otherwise search goes on while a running hypothesis could still
/// beat the worst finished one. NoRepeatNgramSize n forbids any n-gram from appearing twice in a hypothesis.
/// </summary>
public sealed record BeamSearchOptions(int NumBeams, int MaxNewTokens, double LengthPenalty = 1.0,
    bool EarlyStopping = false, int NoRepeatNgramSize = 0);

/// <summary>The best hypothesis (without &lt;s&gt; and &lt;/s&gt;), each token's log-probability, its score and whether
/// it ended with &lt;/s&gt;.</summary>
public sealed record BeamResult(int[] Tokens, double[] LogProbabilities, double Score, bool Finished);

public static class BeamSearch
{
    public static BeamResult Search(IDecodingSession session, PairSpecialIds specials, BeamSearchOptions options,
        CancellationToken cancellationToken = default)
    {
        if (options.NumBeams < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "numBeams must be at least 1.");
        var beams = new List<List<int>> { new() { specials.Bos } };
        var scores = new List<double> { 0.0 };
        var steps = new List<List<double>> { new() };
        var finished = new List<(int[] Tokens, double[] LogProbabilities, double Score)>();
        for (var step = 0; step < options.MaxNewTokens; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Candidates: the best 2·numBeams (beam, token) pairs by running score, enough to refill the beams even if
            // numBeams of them end; padding, <s> and n-grams that would repeat are never candidates.
            float[] logProbabilities;
            int vocab;
            using (NewDisposeScope())
            {
                var logits = session.NextLogits(beams).to(ScalarType.Float32);
                vocab = (int)logits.shape[1];
                logProbabilities = nn.functional.log_softmax(logits, -1).cpu().data<float>().ToArray();
            }
            var candidates = new TopCandidates(2 * options.NumBeams);
            for (var b = 0; b < beams.Count; b++)
            {
                var banned = Banned(beams[b], options.NoRepeatNgramSize);
                for (var t = 0; t < vocab; t++)
                    if (t != specials.Pad && t != specials.Bos && (banned is null || !banned.Contains(t)))
                        candidates.Offer(b, t, scores[b] + logProbabilities[b * vocab + t],
                            logProbabilities[b * vocab + t]);
            }
            var next = new List<(int Beam, int Token, double Score, double LogProbability)>();
            foreach (var c in candidates.Best)
            {
                if (c.Token == specials.Eos)
                {
                    finished.Add((beams[c.Beam].Skip(1).ToArray(), [.. steps[c.Beam]],
                        c.Score / Math.Pow(beams[c.Beam].Count, options.LengthPenalty)));
                    continue;
                }
                next.Add(c);
                if (next.Count == options.NumBeams)
                    break;
            }
            if (Done(finished, next, beams[0].Count + 1, options) || next.Count == 0)
                break;
            session.Reorder(next.Select(c => (long)c.Beam).ToArray());
            beams = next.Select(c => new List<int>(beams[c.Beam]) { c.Token }).ToList();
            scores = next.Select(c => c.Score).ToList();
            steps = next.Select(c => new List<double>(steps[c.Beam]) { c.LogProbability }).ToList();
        }
        if (finished.Count > 0)
        {
            var best = finished.MaxBy(f => f.Score);
            return new BeamResult(best.Tokens, best.LogProbabilities, best.Score, true);
        }
        var length = beams[0].Count - 1;
        return new BeamResult(beams[0].Skip(1).ToArray(), [.. steps[0]],
            scores[0] / Math.Pow(Math.Max(1, length), options.LengthPenalty), false);
    }

    /// <summary>
    /// Whether search can stop: numBeams hypotheses finished, and (unless early stopping) no running beam could still
    /// beat the worst of them, judged by its score if it ended now (Hugging Face's default heuristic: exact when α = 0,
    /// since log-probabilities only fall, and close otherwise).
    /// </summary>
    private static bool Done(List<(int[] Tokens, double[] LogProbabilities, double Score)> finished,
        List<(int Beam, int Token, double Score, double LogProbability)> running, int length,
        BeamSearchOptions options)
    {
        if (finished.Count < options.NumBeams)
            return false;
        if (options.EarlyStopping || running.Count == 0)
            return true;
        var worstKept = finished.Select(f => f.Score).OrderDescending().Take(options.NumBeams).Min();
        var bestRunning = running.Max(r => r.Score) / Math.Pow(length, options.LengthPenalty);
        return bestRunning <= worstKept;
    }

    /// <summary>Tokens that would repeat an n-gram already in the hypothesis (its &lt;s&gt; excluded).</summary>
    private static HashSet<int>? Banned(List<int> beam, int n)
    {
        if (n <= 0 || beam.Count - 1 < n)
            return null;
        var tokens = beam.Skip(1).ToList();
        var prefix = tokens.Skip(tokens.Count - (n - 1)).ToList();
        var banned = new HashSet<int>();
        for (var start = 0; start + n <= tokens.Count; start++)
        {
            var matches = true;
            for (var i = 0; i < n - 1 && matches; i++)
                matches = tokens[start + i] == prefix[i];
            if (matches)
                banned.Add(tokens[start + n - 1]);
        }
        return banned;
    }

    /// <summary>The k best (beam, token) pairs by score, kept sorted as they are offered; ties keep the earlier
    /// offer.</summary>
    private sealed class TopCandidates(int k)
    {
        private readonly List<(int Beam, int Token, double Score, double LogProbability)> _best = new(k + 1);

        public IReadOnlyList<(int Beam, int Token, double Score, double LogProbability)> Best => _best;

        public void Offer(int beam, int token, double score, double logProbability)
        {
            if (_best.Count == k && score <= _best[^1].Score)
                return;
            var at = _best.Count;
            while (at > 0 && _best[at - 1].Score < score)
                at--;
            _best.Insert(at, (beam, token, score, logProbability));
            if (_best.Count > k)
                _best.RemoveAt(k);
        }
    }
}
