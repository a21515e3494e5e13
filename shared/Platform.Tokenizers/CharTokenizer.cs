using System.Text;
using System.Text.Json;

namespace Platform.Tokenizers;

/// <summary>
/// One id per distinct Unicode scalar value, ids in code-point order (nanoGPT's char-level tokenizer,
/// but over runes rather than UTF-16 units so astral characters are one token, not two halves).
/// </summary>
public sealed class CharTokenizer : ITokenizer
{
    private readonly int[] _idToRune;
    private readonly Dictionary<int, int> _runeToId;

    public CharTokenizer(IEnumerable<int> runes)
    {
        _idToRune = runes.Distinct().Order().ToArray();
        _runeToId = _idToRune.Select((rune, id) => (rune, id)).ToDictionary(p => p.rune, p => p.id);
    }

    public string Kind => "char";
    public int VocabSize => _idToRune.Length;

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
            if ((uint)id >= (uint)_idToRune.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), $"Token id {id} is outside the vocabulary of {VocabSize}.");
            sb.Append(char.ConvertFromUtf32(_idToRune[id]));
        }
        return sb.ToString();
    }

    public IReadOnlyList<string> Vocabulary => _idToRune.Select(char.ConvertFromUtf32).ToArray();

    /// <summary>Saved as a Hugging Face tokenizer.json: a WordLevel model over single characters.</summary>
    public void Save(Stream stream) => HuggingFaceTokenizerJson.Write(this, stream);

    internal static CharTokenizer FromVocabulary(IEnumerable<string> characters) =>
        new(characters.Select(s => char.ConvertToUtf32(s, 0)));

    internal static CharTokenizer FromFile(CharTokenizerFile file) =>
        new(file.Vocab.Select(s => char.ConvertToUtf32(s, 0)));

    /// <summary>Builds the vocabulary from text read in chunks, never holding the whole corpus.</summary>
    public static CharTokenizer Train(IEnumerable<TextReader> sources)
    {
        var runes = new HashSet<int>();
        foreach (var source in sources)
        foreach (var chunk in TextChunks.Read(source))
        foreach (var rune in chunk.EnumerateRunes())
            runes.Add(rune.Value);
        return new CharTokenizer(runes);
    }
}

internal sealed record CharTokenizerFile(string Kind, string[] Vocab);
