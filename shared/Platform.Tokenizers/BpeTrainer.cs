namespace Platform.Tokenizers;

/// <summary>
/// Learns byte-level BPE merges: the corpus is read once into counts of distinct pre-tokens (as UTF-8 byte
/// symbols), then <see cref="MergeLearner"/> merges incrementally up to the vocabulary size.
/// </summary>
public static class BpeTrainer
{
    public const int MaxVocabSize = 1_000_000;

    public static BpeTokenizer Train(IEnumerable<TextReader> sources, int vocabSize, int minFrequency = 2,
        IReadOnlyList<string>? specialTokens = null)
    {
        specialTokens ??= [];
        if (vocabSize < 256 + specialTokens.Count || vocabSize > MaxVocabSize)
            throw new ArgumentOutOfRangeException(nameof(vocabSize),
                $"vocabSize must be at least {256 + specialTokens.Count} (256 bytes + special tokens) and at most " +
                $"{MaxVocabSize:N0}.");

        var words = WordCounts.Count(sources, specialTokens, ByteLevel.Gpt2Pattern())
            .Select(p => (System.Text.Encoding.UTF8.GetBytes(p.Word).Select(b => (int)b).ToList(), p.Count))
            .ToArray();
        var tokens = Enumerable.Range(0, 256).Select(b => ByteLevel.ByteToChar[b].ToString()).ToList();
        var merges = MergeLearner.Learn(words, tokens, vocabSize - specialTokens.Count, minFrequency, (left, right) =>
            left + right);

        var special = new Dictionary<string, int>();
        foreach (var token in specialTokens)
        {
            special[token] = tokens.Count;
            tokens.Add(token);
        }
        return new BpeTokenizer(tokens, merges, special);
    }
}

/// <summary>Distinct pre-tokens of a corpus with their counts, read chunk by chunk, in ordinal order.</summary>
internal static class WordCounts
{
    public static List<(string Word, long Count)> Count(IEnumerable<TextReader> sources,
        IReadOnlyList<string> specialTokens,
        System.Text.RegularExpressions.Regex pattern)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var source in sources)
            foreach (var chunk in TextChunks.ReadAtSafeBreaks(source))
            {
                foreach (var part in specialTokens.Count == 0 ? [chunk]
                    : chunk.Split(specialTokens.ToArray(), StringSplitOptions.None))
                    foreach (var match in pattern.EnumerateMatches(part))
                    {
                        var piece = part.AsSpan(match.Index, match.Length);
                        lookup[piece] = lookup.TryGetValue(piece, out var n) ? n + 1 : 1;
                    }
            }
        return counts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)).ToList();
    }
}
