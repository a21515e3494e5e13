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
    // Pieces are cached for reuse only up to this length: a long run without spaces is seldom seen twice, and caching
    // it would keep its text.
    private const int MaxCachedPieceChars = 256;

    /// <summary>
    /// A pre-token longer than this many UTF-8 bytes is encoded in parts of this size (cut between characters), so
    /// that one unbroken run (a base64 blob, a line with no spaces) costs memory in proportion to the part, not the
    /// run. Merges do not cross a cut; natural text has no word this long, so its tokens are the reference's.
    /// </summary>
    public const int MaxPieceBytes = 1 << 16;

    private readonly string[] _idToToken;
    private readonly int[] _byteIds = new int[256];
    private readonly Dictionary<(int, int), (int Rank, int Id)> _merges = [];
    private readonly Dictionary<string, int> _specialIds;
    private readonly ConcurrentDictionary<string, int[]> _cache = new();
    private int _cachedWords;

    public BpeTokenizer(IReadOnlyList<string> idToToken, IReadOnlyList<(string Left, string Right)> merges,
        IReadOnlyDictionary<string, int> specialTokens)
    {
        _idToToken = idToToken.ToArray();
        var tokenToId = new Dictionary<string, int>(_idToToken.Length, StringComparer.Ordinal);
        for (var id = 0; id < _idToToken.Length; id++)
            if (!specialTokens.ContainsKey(_idToToken[id]) && !tokenToId.TryAdd(_idToToken[id], id))
                throw new InvalidDataException($"Token '{_idToToken[id]}' appears twice in the vocabulary.");
        for (var b = 0; b < 256; b++)
            _byteIds[b] = tokenToId.TryGetValue(ByteLevel.ByteToChar[b].ToString(), out var id)
                ? id
                : throw new InvalidDataException($"The vocabulary lacks byte 0x{b:X2} ('{ByteLevel.ByteToChar[b]}'): " +
                $"not a byte-level BPE.");
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!tokenToId.TryGetValue(left, out var l) || !tokenToId.TryGetValue(right, out var r)
                || !tokenToId.TryGetValue(left + right, out var merged))
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

    public int[] Encode(string text) => Encode(text, CancellationToken.None);

    /// <summary>The same, stopping with <see cref="OperationCanceledException"/> between pieces once cancelled.
    /// </summary>
    public int[] Encode(string text, CancellationToken cancellationToken)
    {
        var ids = new List<int>(text.Length / 2 + 1); // English BPE runs about 0.3–0.5 tokens a character
        var start = 0;
        while (start < text.Length)
        {
            var (at, special) = NextSpecial(text, start);
            EncodeOrdinary(text.AsSpan(start, at - start), ids, cancellationToken);
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

    private void EncodeOrdinary(ReadOnlySpan<char> text, List<int> ids, CancellationToken cancellationToken)
    {
        var lookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var match in ByteLevel.Gpt2PatternForThisThread().EnumerateMatches(text))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var piece = text.Slice(match.Index, match.Length);
            if (piece.Length > MaxCachedPieceChars)
            {
                EncodeLongPiece(piece, ids, cancellationToken);
                continue;
            }
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

    /// <summary>A long pre-token, uncached, in parts of at most <see cref="MaxPieceBytes"/> bytes.</summary>
    private void EncodeLongPiece(ReadOnlySpan<char> piece, List<int> ids, CancellationToken cancellationToken)
    {
        var bytes = Utf8Of(piece);
        var start = 0;
        while (start < bytes.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var end = Math.Min(bytes.Length, start + MaxPieceBytes);
            // Back up to a character's first byte (not a continuation byte 10xxxxxx).
            while (end < bytes.Length && (bytes[end] & 0xC0) == 0x80)
                end--;
            ids.AddRange(Merge(bytes.AsSpan(start, end - start)));
            start = end;
        }
    }

    private int[] EncodePiece(ReadOnlySpan<char> piece) => Merge(Utf8Of(piece));

    private static byte[] Utf8Of(ReadOnlySpan<char> piece)
    {
        try
        {
            return StrictUtf8.GetBytes(piece.ToArray());
        }
        catch (EncoderFallbackException)
        {
            throw new ArgumentException("The text holds an unpaired surrogate: it is not valid Unicode.");
        }
    }

    /// <summary>
    /// Applies merges to one pre-token's bytes: the adjacent pair of lowest rank first, the leftmost among equals,
    /// until none applies (Hugging Face's and tiktoken's order). The symbols form a linked list over the byte
    /// positions, and the candidate pairs a priority queue keyed by (rank, position): a merge joins two list nodes and
    /// queues the pairs it makes with its neighbours, and a queued pair whose symbols have changed since is skipped
    /// when it comes up. That is O(n log n) in the piece's length, where merging by rescanning the piece is O(n²).
    /// </summary>
    private int[] Merge(ReadOnlySpan<byte> bytes)
    {
        var n = bytes.Length;
        if (n <= 1)
            return n == 0 ? [] : [_byteIds[bytes[0]]];
        // ids[i] is the symbol starting at byte i, or -1 once it was merged into its left neighbour.
        var ids = new int[n];
        var next = new int[n];
        var previous = new int[n];
        for (var i = 0; i < n; i++)
            (ids[i], next[i], previous[i]) = (_byteIds[bytes[i]], i + 1 < n ? i + 1 : -1, i - 1);
        var queue = new PriorityQueue<(int At, int Left, int Right), (int Rank, int At)>();
        void Queue(int at)
        {
            var right = next[at];
            if (right >= 0 && _merges.TryGetValue((ids[at], ids[right]), out var merge))
                queue.Enqueue((at, ids[at], ids[right]), (merge.Rank, at));
        }
        for (var i = 0; i + 1 < n; i++)
            Queue(i);
        while (queue.TryDequeue(out var pair, out _))
        {
            var right = next[pair.At];
            // Stale: a symbol of the pair was merged with another since it was queued (merged symbols never recur).
            if (ids[pair.At] != pair.Left || right < 0 || ids[right] != pair.Right)
                continue;
            ids[pair.At] = _merges[(pair.Left, pair.Right)].Id;
            ids[right] = -1;
            next[pair.At] = next[right];
            if (next[right] >= 0)
                previous[next[right]] = pair.At;
            if (previous[pair.At] >= 0)
                Queue(previous[pair.At]);
            Queue(pair.At);
        }
        var symbols = new List<int>();
        for (var i = 0; i >= 0; i = next[i])
            symbols.Add(ids[i]);
        return [.. symbols];
    }

    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        var text = new StringBuilder();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)_idToToken.Length)
                throw new ArgumentOutOfRangeException(nameof(ids),
                    $"Token id {id} is outside the vocabulary of {VocabSize}.");
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
