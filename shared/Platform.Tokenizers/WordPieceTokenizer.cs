using System.Text;

namespace Platform.Tokenizers;

/// <summary>
/// BERT-style WordPiece: BERT normalisation and pre-tokenization, then each word split greedily into the longest
/// vocabulary pieces from the left, pieces after the first carrying the "##" prefix; a word that cannot be split
/// (or is longer than 100 characters) becomes [UNK]. Decoding joins pieces with Hugging Face's WordPiece decoder
/// (a space before each word, then its clean-up of " ." " ," " !" " ?" and English contractions), except that no
/// space goes next to Chinese text: BERT splits every ideograph into a word of its own, and Chinese is written without
/// spaces. It restores spacing, not casing; a space the text had between Chinese and Latin is not restored.
/// </summary>
public sealed class WordPieceTokenizer : ITokenizer
{
    public const string Prefix = "##", UnknownToken = "[UNK]";
    public const int MaxInputCharsPerWord = 100;
    public static readonly IReadOnlyList<string> DefaultSpecialTokens = ["[PAD]", UnknownToken, "[CLS]", "[SEP]",
        "[MASK]"];

    private readonly string[] _idToToken;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly int _unknownId;

    public WordPieceTokenizer(IReadOnlyList<string> vocabulary, bool lowercase)
    {
        _idToToken = vocabulary.ToArray();
        _tokenToId = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var id = 0; id < _idToToken.Length; id++)
            if (!_tokenToId.TryAdd(_idToToken[id], id))
                throw new InvalidDataException($"Token '{_idToToken[id]}' appears twice in the vocabulary.");
        _unknownId = _tokenToId.TryGetValue(UnknownToken, out var unknown)
            ? unknown
            : throw new InvalidDataException($"A WordPiece vocabulary needs {UnknownToken}.");
        Lowercase = lowercase;
    }

    public string Kind => "wordpiece";
    public int VocabSize => _idToToken.Length;
    public bool Lowercase { get; }
    public IReadOnlyList<string> Vocabulary => _idToToken;

    public int? SpecialTokenId(string token) => _tokenToId.TryGetValue(token, out var id) ? id : null;

    public int[] Encode(string text)
    {
        var ids = new List<int>();
        foreach (var word in BertPreTokenization.Split(BertPreTokenization.Normalise(text, Lowercase)))
            EncodeWord(word, ids);
        return ids.ToArray();
    }

    private void EncodeWord(string word, List<int> ids)
    {
        if (word.Length > MaxInputCharsPerWord)
        {
            ids.Add(_unknownId);
            return;
        }
        var pieces = new List<int>();
        for (var start = 0; start < word.Length;)
        {
            var found = -1;
            var end = word.Length;
            for (; end > start; end--)
            {
                if (end < word.Length && char.IsLowSurrogate(word[end]))
                    continue; // never cut inside a surrogate pair
                var piece = start == 0 ? word[start..end] : Prefix + word[start..end];
                if (_tokenToId.TryGetValue(piece, out found))
                    break;
                found = -1;
            }
            if (found < 0)
            {
                ids.Add(_unknownId);
                return;
            }
            pieces.Add(found);
            start = end;
        }
        ids.AddRange(pieces);
    }

    public string Decode(IEnumerable<int> ids)
    {
        var sb = new StringBuilder();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)_idToToken.Length)
                throw new ArgumentOutOfRangeException(nameof(ids),
                    $"Token id {id} is outside the vocabulary of {VocabSize}.");
            var token = _idToToken[id];
            if (token.StartsWith(Prefix, StringComparison.Ordinal))
                sb.Append(token, Prefix.Length, token.Length - Prefix.Length);
            else if (sb.Length == 0 || EndsWithCjk(sb) || StartsWithCjk(token))
                sb.Append(token);
            else
                sb.Append(CleanUp(" " + token));
        }
        return sb.ToString();
    }

    // The last character decoded so far, read in place: copying the builder for every word would make decoding
    // quadratic.
    private static bool EndsWithCjk(StringBuilder sb)
    {
        var last = sb[^1];
        var codePoint = char.IsLowSurrogate(last) && sb.Length > 1 && char.IsHighSurrogate(sb[^2])
            ? char.ConvertToUtf32(sb[^2], last) : last;
        return BertPreTokenization.IsCjkText(codePoint);
    }

    private static bool StartsWithCjk(string token) => Rune.TryGetRuneAt(token, 0, out var rune)
        && BertPreTokenization.IsCjkText(rune.Value);

    // Hugging Face tokenizers' WordPiece decoder clean-up (cleanup: true in the tokenizer.json this class writes).
    private static string CleanUp(string piece) => piece
        .Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'").Replace(" n't",
        "n't")
        .Replace(" 'm", "'m").Replace(" do not", " don't").Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're",
        "'re");

    public void Save(Stream stream) => HuggingFaceTokenizerJson.Write(this, stream);
}

/// <summary>
/// Learns a WordPiece vocabulary as Hugging Face's trainer does: words start as their first character and
/// "##"-prefixed following characters, and the most frequent adjacent pieces are merged (see
/// <see cref="MergeLearner"/>) until the vocabulary is full. Special tokens come first.
/// </summary>
public static class WordPieceTrainer
{
    public static WordPieceTokenizer Train(IEnumerable<TextReader> sources, int vocabSize, bool lowercase = true,
        int minFrequency = 2,
        IReadOnlyList<string>? specialTokens = null)
    {
        specialTokens ??= WordPieceTokenizer.DefaultSpecialTokens;
        if (!specialTokens.Contains(WordPieceTokenizer.UnknownToken))
            specialTokens = [.. specialTokens, WordPieceTokenizer.UnknownToken];
        var counts = CountWords(sources, lowercase);
        var alphabet = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (word, _) in counts)
            for (var i = 0; i < word.Length; i += char.IsSurrogatePair(word, i) ? 2 : 1)
                alphabet.Add((i == 0 ? "" : WordPieceTokenizer.Prefix)
                    + char.ConvertFromUtf32(char.ConvertToUtf32(word, i)));
        if (vocabSize < specialTokens.Count + alphabet.Count || vocabSize > BpeTrainer.MaxVocabSize)
            throw new ArgumentOutOfRangeException(nameof(vocabSize),
                $"vocabSize must be at least {specialTokens.Count + alphabet.Count} (special tokens + the corpus's " +
                $"characters) and at most {BpeTrainer.MaxVocabSize:N0}.");

        var tokens = specialTokens.Concat(alphabet).ToList();
        var index = tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i, StringComparer.Ordinal);
        var words = counts.Select(p =>
        {
            var symbols = new List<int>();
            for (var i = 0; i < p.Word.Length; i += char.IsSurrogatePair(p.Word, i) ? 2 : 1)
                symbols.Add(index[(i == 0 ? "" : WordPieceTokenizer.Prefix)
                    + char.ConvertFromUtf32(char.ConvertToUtf32(p.Word, i))]);
            return (symbols, p.Count);
        }).ToArray();
        MergeLearner.Learn(words, tokens, vocabSize, minFrequency, (left, right) => left
            + right[WordPieceTokenizer.Prefix.Length..]);
        // Different merges can spell the same piece; the vocabulary keeps its first occurrence.
        return new WordPieceTokenizer(tokens.Distinct(StringComparer.Ordinal).ToList(), lowercase);
    }

    private static List<(string Word, long Count)> CountWords(IEnumerable<TextReader> sources, bool lowercase)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var source in sources)
            foreach (var chunk in TextChunks.ReadAtSafeBreaks(source))
                foreach (var word in BertPreTokenization.Split(BertPreTokenization.Normalise(chunk, lowercase)))
                    counts[word] = counts.GetValueOrDefault(word) + 1;
        return counts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)).ToList();
    }
}
