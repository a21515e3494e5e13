namespace Platform.Tokenizers;

/// <summary>
/// The incremental merge loop shared by the BPE and WordPiece trainers. Words are symbol-id sequences with
/// counts; after each merge only the words holding the merged pair are touched, the counts of the pairs
/// around it are updated, and the next best pair comes from a priority queue (stale entries are skipped when
/// popped). Ties go to the pair with the smaller ids, so the same input always gives the same merges.
/// </summary>
internal static class MergeLearner
{
    /// <param name="tokens">The initial symbols; merged tokens are appended.</param>
    /// <param name="combine">The new token's text from its two parts.</param>
    /// <returns>The merges, in order, as the pairs of token texts merged.</returns>
    public static List<(string Left, string Right)> Learn((List<int> Symbols, long Count)[] words, List<string> tokens,
        int targetSize,
        int minFrequency, Func<string, string, string> combine)
    {
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

        while (tokens.Count < targetSize && queue.TryDequeue(out var pair, out var priority))
        {
            if (!pairCounts.TryGetValue(pair, out var current) || current != -priority.NegativeCount)
                continue; // stale: the pair's count changed since this entry was queued
            if (current < minFrequency)
                break;
            var (left, right) = (Left(pair), Right(pair));
            var merged = tokens.Count;
            tokens.Add(combine(tokens[left], tokens[right]));
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
        return merges;

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
}
