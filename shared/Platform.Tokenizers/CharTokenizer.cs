using System.Text;
using System.Text.Json;

namespace Platform.Tokenizers;

/// <summary>
/// One id per distinct Unicode scalar value, ids in code-point order (nanoGPT's char-level tokenizer,
/// but over runes rather than UTF-16 units so astral characters are one token, not two halves). Special tokens
/// (e.g. &lt;pad&gt; &lt;s&gt; &lt;/s&gt; for sequence pairs) take the first ids; text never encodes to them.
/// </summary>
public sealed class CharTokenizer : ITokenizer
{
    private readonly int[] _idToRune;
    private readonly Dictionary<int, int> _runeToId;
    private readonly string[] _specialTokens;

    public CharTokenizer(IEnumerable<int> runes, IReadOnlyList<string>? specialTokens = null)
    {
        _specialTokens = specialTokens?.ToArray() ?? [];
        _idToRune = runes.Distinct().Order().ToArray();
        _runeToId = _idToRune.Select((rune, index) => (rune, index)).ToDictionary(p => p.rune, p => p.index
            + _specialTokens.Length);
    }

    public string Kind => "char";
    public int VocabSize => _specialTokens.Length + _idToRune.Length;
    public IReadOnlyList<string> SpecialTokens => _specialTokens;

    public int? SpecialTokenId(string token) => Array.IndexOf(_specialTokens, token) is >= 0 and var id ? id : null;

    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length);
        List<string>? unknown = null;
        foreach (var rune in text.EnumerateRunes())
        {
            if (_runeToId.TryGetValue(rune.Value, out var id))
                ids.Add(id);
            else if (!(unknown ??= []).Contains(rune.ToString()))
                unknown.Add(rune.ToString());
        }
        if (unknown is not null)
            throw new UnknownTokenException(unknown);
        return ids.ToArray();
    }

    /// <summary>Encodes into a caller's buffer; returns the count. The buffer must hold text.Length ids.</summary>
    public int Encode(ReadOnlySpan<char> text, Span<int> destination)
    {
        var count = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (!_runeToId.TryGetValue(rune.Value, out var id))
                throw new UnknownTokenException([rune.ToString()]);
            destination[count++] = id;
        }
        return count;
    }

    public string Decode(IEnumerable<int> ids)
    {
        var sb = new StringBuilder();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)VocabSize)
                throw new ArgumentOutOfRangeException(nameof(ids),
                    $"Token id {id} is outside the vocabulary of {VocabSize}.");
            sb.Append(id < _specialTokens.Length ? _specialTokens[id]
                : char.ConvertFromUtf32(_idToRune[id - _specialTokens.Length]));
        }
        return sb.ToString();
    }

    /// <summary>Every token by id: the special tokens, then the characters.</summary>
    public IReadOnlyList<string> Vocabulary => _specialTokens.Concat(_idToRune.Select(char.ConvertFromUtf32)).ToArray();

    /// <summary>Saved as a Hugging Face tokenizer.json: a WordLevel model over single characters.</summary>
    public void Save(Stream stream) => HuggingFaceTokenizerJson.Write(this, stream);

    internal static CharTokenizer FromVocabulary(IEnumerable<string> characters,
        IReadOnlyList<string>? specialTokens = null) =>
        new(characters.Select(s => char.ConvertToUtf32(s, 0)), specialTokens);

    internal static CharTokenizer FromFile(CharTokenizerFile file) =>
        new(file.Vocab.Select(s => char.ConvertToUtf32(s, 0)));

    /// <summary>Builds the vocabulary from text read in chunks, never holding the whole corpus.</summary>
    public static CharTokenizer Train(IEnumerable<TextReader> sources, IReadOnlyList<string>? specialTokens = null)
    {
        var runes = new HashSet<int>();
        foreach (var source in sources)
            foreach (var chunk in TextChunks.Read(source))
                foreach (var rune in chunk.EnumerateRunes())
                    runes.Add(rune.Value);
        return new CharTokenizer(runes, specialTokens);
    }
}

internal sealed record CharTokenizerFile(string Kind, string[] Vocab);
