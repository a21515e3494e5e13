namespace Platform.Tokenizers;

/// <summary>
/// Builds a byte-level BPE tokenizer from a tiktoken rank file ("base64-of-token-bytes rank" per line, as
/// OpenAI's gpt2/r50k files). tiktoken keeps no merge list: the pair that forms each token is recovered by running
/// BPE on the token's own bytes using only lower-ranked tokens until two parts remain, which reproduces GPT-2's
/// merges in rank order.
/// </summary>
public static class TiktokenRanks
{
    public static BpeTokenizer Load(TextReader reader, IReadOnlyDictionary<string, int>? specialTokens = null)
    {
        var ranked = new List<(string Token, int Rank)>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            // Also the packed form (as Microsoft.ML.Tokenizers ships it): a "Capacity: N" header, then one token
            // per line whose rank is its position.
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
                continue;
            var parts = line.Split(' ');
            var rank = ranked.Count;
            if (parts.Length > 2 || (parts.Length == 2 && !int.TryParse(parts[1], out rank)))
                throw new InvalidDataException($"Malformed tiktoken line '{line}'.");
            ranked.Add((ByteLevel.ToByteString(Convert.FromBase64String(parts[0])), rank));
        }
        ranked.Sort((a, b) => a.Rank.CompareTo(b.Rank));
        var rankOf = ranked.ToDictionary(r => r.Token, r => r.Rank, StringComparer.Ordinal);

        var merges = new List<(string, string)>();
        foreach (var (token, rank) in ranked)
            if (token.Length > 1 && SplitInTwo(token, rank, rankOf) is { } pair)
                merges.Add(pair);

        var vocabulary = ranked.Select(r => r.Token).ToList();
        var special = new Dictionary<string, int>();
        foreach (var (content, id) in specialTokens ?? new Dictionary<string, int>())
        {
            while (vocabulary.Count <= id)
                vocabulary.Add($"<|unused{vocabulary.Count}|>");
            vocabulary[id] = content;
            special[content] = id;
        }
        return new BpeTokenizer(vocabulary, merges, special);
    }

    private static (string, string)? SplitInTwo(string token, int rank, Dictionary<string, int> rankOf)
    {
        var parts = token.Select(c => c.ToString()).ToList();
        while (parts.Count > 2)
        {
            var best = -1;
            var bestRank = rank;
            for (var i = 0; i < parts.Count - 1; i++)
                if (rankOf.TryGetValue(parts[i] + parts[i + 1], out var r) && r < bestRank)
                    (best, bestRank) = (i, r);
            if (best < 0)
                return null;
            parts[best] += parts[best + 1];
            parts.RemoveAt(best + 1);
        }
        return (parts[0], parts[1]);
    }
}
