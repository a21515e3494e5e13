using System.Collections.Concurrent;
using System.Text;

namespace Platform.Tokenizers;

/// <summary>
/// GPT-2-style byte-level BPE: text is split by GPT-2's pattern, each piece's UTF-8 bytes start as the 256 byte
/// symbols (so any text encodes, with no unknown token), and learned merges are applied by rank. Special tokens
/// (e.g. &lt;|endoftext|&gt;) are matched verbatim before splitting. Saved and loaded as a Hugging Face tokenizer.json.
/// </summary>
public sealed class BpeTokenizer : ITokenizer
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);
    private const int MaxCachedWords = 200_000;

    private readonly string[] _idToToken;
    private readonly int[] _byteIds = new int[256];
    private readonly Dictionary<(int, int), (int Rank, int Id)> _merges = [];
    private readonly Dictionary<string, int> _specialIds;
    private readonly ConcurrentDictionary<string, int[]> _cache = new();
    private int _cachedWords;

    public BpeTokenizer(IReadOnlyList<string> idToToken, IReadOnlyList<(string Left, string Right)> merges, IReadOnlyDictionary<string, int> specialTokens)
    {
        _idToToken = idToToken.ToArray();
        var tokenToId = new Dictionary<string, int>(_idToToken.Length, StringComparer.Ordinal);
        for (var id = 0; id < _idToToken.Length; id++)
            if (!specialTokens.ContainsKey(_idToToken[id]) && !tokenToId.TryAdd(_idToToken[id], id))
                throw new InvalidDataException($"Token '{_idToToken[id]}' appears twice in the vocabulary.");
        for (var b = 0; b < 256; b++)
            _byteIds[b] = tokenToId.TryGetValue(ByteLevel.ByteToChar[b].ToString(), out var id)
                ? id
                : throw new InvalidDataException($"The vocabulary lacks byte 0x{b:X2} ('{ByteLevel.ByteToChar[b]}'): not a byte-level BPE.");
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!tokenToId.TryGetValue(left, out var l) || !tokenToId.TryGetValue(right, out var r) || !tokenToId.TryGetValue(left + right, out var merged))
                throw new InvalidDataException($"Merge '{left} {right}' refers to tokens missing from the vocabulary.");
            _merges.TryAdd((l, r), (rank, merged));
        }
        _specialIds = specialTokens.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        Merges = merges.ToArray();
    }

    public string Kind => "bpe";
    public int VocabSize => _idToToken.Length;
    public IReadOnlyList<string> Vocabulary => _idToToken;
    public IReadOnlyList<(string Left, string Right)> Merges { get; }
    public IReadOnlyDictionary<string, int> SpecialTokens => _specialIds;

    public int? SpecialTokenId(string token) => _specialIds.TryGetValue(token, out var id) ? id : null;

    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 2 + 1); // English BPE runs about 0.3–0.5 tokens a character
        var start = 0;
        while (start < text.Length)
        {
            var (at, special) = NextSpecial(text, start);
            EncodeOrdinary(text.AsSpan(start, at - start), ids);
            if (special is null)
                break;
            ids.Add(_specialIds[special]);
            start = at + special.Length;
        }
        return ids.ToArray();
    }

    private (int At, string? Special) NextSpecial(string text, int start)
    {
        var best = (At: text.Length, Special: (string?)null);
        foreach (var special in _specialIds.Keys)
        {
            var at = text.IndexOf(special, start, StringComparison.Ordinal);
            if (at >= 0 && (at < best.At || (at == best.At && special.Length > best.Special!.Length)))
                best = (at, special);
        }
        return best;
    }

    private void EncodeOrdinary(ReadOnlySpan<char> text, List<int> ids)
    {
        var lookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var match in ByteLevel.Gpt2PatternForThisThread().EnumerateMatches(text))
        {
            var piece = text.Slice(match.Index, match.Length);
            if (!lookup.TryGetValue(piece, out var pieceIds))
            {
                pieceIds = EncodePiece(piece);
                // Counted here rather than with _cache.Count, which takes every one of the dictionary's locks.
                if (Interlocked.Increment(ref _cachedWords) > MaxCachedWords)
                {
                    _cache.Clear();
                    Interlocked.Exchange(ref _cachedWords, 0);
                }
                lookup.TryAdd(piece, pieceIds);
            }
            ids.AddRange(pieceIds);
        }
    }

    /// <summary>Applies merges to one pre-token: repeatedly merge the adjacent pair of lowest rank.</summary>
    private int[] EncodePiece(ReadOnlySpan<char> piece)
    {
        byte[] bytes;
        try
        {
            bytes = StrictUtf8.GetBytes(piece.ToArray());
        }
        catch (EncoderFallbackException)
        {
            throw new ArgumentException("The text holds an unpaired surrogate: it is not valid Unicode.");
        }
        var symbols = new List<int>(bytes.Length);
        foreach (var b in bytes)
            symbols.Add(_byteIds[b]);
        while (symbols.Count > 1)
        {
            var bestRank = int.MaxValue;
            var bestId = -1;
            (int, int) bestPair = default;
            for (var i = 0; i < symbols.Count - 1; i++)
                if (_merges.TryGetValue((symbols[i], symbols[i + 1]), out var merge) && merge.Rank < bestRank)
                    (bestRank, bestId, bestPair) = (merge.Rank, merge.Id, (symbols[i], symbols[i + 1]));
            if (bestId < 0)
                break;
            for (var i = 0; i < symbols.Count - 1; i++)
            {
                if (symbols[i] == bestPair.Item1 && symbols[i + 1] == bestPair.Item2)
                {
                    symbols[i] = bestId;
                    symbols.RemoveAt(i + 1);
                }
            }
        }
        return symbols.ToArray();
    }

    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        var text = new StringBuilder();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)_idToToken.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), $"Token id {id} is outside the vocabulary of {VocabSize}.");
            var token = _idToToken[id];
            if (_specialIds.ContainsKey(token))
            {
                Flush();
                text.Append(token);
                continue;
            }
            foreach (var c in token)
                bytes.Add(ByteLevel.CharToByte[c]);
        }
        Flush();
        return text.ToString();

        // Bytes of a character split across ids decode together; an incomplete tail shows as U+FFFD.
        void Flush()
        {
            text.Append(Encoding.UTF8.GetString(bytes.ToArray()));
            bytes.Clear();
        }
    }

    public void Save(Stream stream) => HuggingFaceTokenizerJson.Write(this, stream);
}
