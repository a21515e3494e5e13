namespace Platform.Tokenizers;

/// <summary>
/// Learns byte-level BPE merges. The corpus is read once into counts of distinct pre-tokens; after that each
/// merge touches only the words that contain the merged pair, updating the counts of the pairs around it, and
/// the next best pair comes from a priority queue (stale entries are skipped when popped). Ties go to the pair
/// with the smaller ids, so the same corpus and settings always give the same merges.
/// </summary>
public static class BpeTrainer
{
    public const int MaxVocabSize = 1_000_000;

    public static BpeTokenizer Train(IEnumerable<TextReader> sources, int vocabSize, int minFrequency = 2, IReadOnlyList<string>? specialTokens = null)
    {
        specialTokens ??= [];
        if (vocabSize < 256 + specialTokens.Count || vocabSize > MaxVocabSize)
            throw new ArgumentOutOfRangeException(nameof(vocabSize),
                $"vocabSize must be at least {256 + specialTokens.Count} (256 bytes + special tokens) and at most {MaxVocabSize:N0}.");

        var words = CountWords(sources, specialTokens);
        var tokens = Enumerable.Range(0, 256).Select(b => ByteLevel.ByteToChar[b].ToString()).ToList();
        var merges = new List<(string, string)>();

        var changed = new HashSet<long>();
        var pairCounts = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, HashSet<int>>();
        for (var w = 0; w < words.Length; w++)
            for (var i = 0; i < words[w].Symbols.Count - 1; i++)
                Add(Key(words[w].Symbols[i], words[w].Symbols[i + 1]), words[w].Count, w);

        var queue = new PriorityQueue<long, (long NegativeCount, int Left, int Right)>();
        foreach (var (key, count) in pairCounts)
            queue.Enqueue(key, (-count, Left(key), Right(key)));

        while (tokens.Count + specialTokens.Count < vocabSize && queue.TryDequeue(out var pair, out var priority))
        {
            if (!pairCounts.TryGetValue(pair, out var current) || current != -priority.NegativeCount)
                continue; // stale: the pair's count changed since this entry was queued
            if (current < minFrequency)
                break;
            var (left, right) = (Left(pair), Right(pair));
            var merged = tokens.Count;
            tokens.Add(tokens[left] + tokens[right]);
            merges.Add((tokens[left], tokens[right]));

            changed.Clear();
            foreach (var w in pairWords[pair])
                MergeInWord(w, left, right, merged);
            pairCounts.Remove(pair);
            pairWords.Remove(pair);
            foreach (var key in changed)
                if (pairCounts.TryGetValue(key, out var count))
                    queue.Enqueue(key, (-count, Left(key), Right(key)));
        }

        var special = new Dictionary<string, int>();
        foreach (var token in specialTokens)
        {
            special[token] = tokens.Count;
            tokens.Add(token);
        }
        return new BpeTokenizer(tokens, merges, special);

        void MergeInWord(int w, int left, int right, int merged)
        {
            var (symbols, count) = words[w];
            for (var i = 0; i < symbols.Count - 1; i++)
            {
                if (symbols[i] != left || symbols[i + 1] != right)
                    continue;
                if (i > 0)
                    Remove(Key(symbols[i - 1], left), count);
                if (i + 2 < symbols.Count)
                    Remove(Key(right, symbols[i + 2]), count);
                symbols[i] = merged;
                symbols.RemoveAt(i + 1);
                if (i > 0)
                    Add(Key(symbols[i - 1], merged), count, w);
                if (i + 1 < symbols.Count)
                    Add(Key(merged, symbols[i + 1]), count, w);
            }
        }

        void Add(long key, long count, int word)
        {
            pairCounts[key] = pairCounts.GetValueOrDefault(key) + count;
            if (!pairWords.TryGetValue(key, out var set))
                pairWords[key] = set = [];
            set.Add(word);
            changed.Add(key);
        }

        void Remove(long key, long count)
        {
            if (!pairCounts.TryGetValue(key, out var current))
                return;
            // Words are not removed from pairWords here: MergeInWord re-checks, which is cheaper than tracking.
            if (current - count <= 0)
                pairCounts.Remove(key);
            else
                pairCounts[key] = current - count;
            changed.Add(key);
        }
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;
    private static int Left(long key) => (int)(key >> 32);
    private static int Right(long key) => (int)key;

    /// <summary>Distinct pre-tokens (as byte symbols) with their counts, read chunk by chunk.</summary>
    private static (List<int> Symbols, long Count)[] CountWords(IEnumerable<TextReader> sources, IReadOnlyList<string> specialTokens)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var source in sources)
        foreach (var chunk in TextChunks.ReadAtSafeBreaks(source))
        foreach (var part in specialTokens.Count == 0 ? [chunk] : chunk.Split(specialTokens.ToArray(), StringSplitOptions.None))
        foreach (var match in ByteLevel.Gpt2Pattern().EnumerateMatches(part))
        {
            var piece = part.AsSpan(match.Index, match.Length);
            lookup[piece] = lookup.TryGetValue(piece, out var n) ? n + 1 : 1;
        }
        return counts
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => (System.Text.Encoding.UTF8.GetBytes(p.Key).Select(b => (int)b).ToList(), p.Value))
            .ToArray();
    }
}
