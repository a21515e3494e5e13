using System.Text;

namespace Platform.Tokenizers;

/// <summary>
/// Decodes a growing completion a token at a time, decoding only a short window of the latest tokens (the offsets
/// Hugging Face's text-generation-inference uses), so streaming a completion costs time linear in its length rather
/// than quadratic. The window starts one emitted step back, so a token's decoding sees the token before it (a WordPiece
/// space, a CJK neighbour); text ending in an incomplete UTF-8 character is held back until a later token completes it.
/// The appended pieces equal <see cref="ITokenizer.Decode"/> of all the tokens, for tokenizers whose decoding of a
/// token depends only on its neighbour: the platform's char, byte-level BPE and WordPiece tokenizers.
/// </summary>
public sealed class IncrementalDecoder(ITokenizer tokenizer)
{
    private readonly List<int> _ids = [];
    private int _prefixOffset, _readOffset;
    private string _prefixText = "";

    /// <summary>The text decoded so far (what <see cref="Add"/> and <see cref="Flush"/> returned, in order).</summary>
    public StringBuilder Text { get; } = new();

    /// <summary>Adds a token; returns the text it completes: "" while the tail is an incomplete character or decodes to
    /// nothing.</summary>
    public string Add(int id)
    {
        _ids.Add(id);
        var window = tokenizer.Decode(Window(_prefixOffset, _ids.Count));
        if (window.Length <= _prefixText.Length || window[^1] == '\uFFFD'
            || !window.StartsWith(_prefixText, StringComparison.Ordinal))
            return "";
        var delta = window[_prefixText.Length..];
        (_prefixOffset, _readOffset) = (_readOffset, _ids.Count);
        _prefixText = tokenizer.Decode(Window(_prefixOffset, _readOffset));
        Text.Append(delta);
        return delta;
    }

    /// <summary>No token follows: the held-back tail as it decodes now (an incomplete character as U+FFFD).</summary>
    public string Flush()
    {
        if (_readOffset == _ids.Count)
            return "";
        var window = tokenizer.Decode(Window(_prefixOffset, _ids.Count));
        string delta;
        if (window.StartsWith(_prefixText, StringComparison.Ordinal))
            delta = window[_prefixText.Length..];
        else
        {
            // A tokenizer whose decoding reaches further back than one token: decode everything once, at the end.
            var whole = tokenizer.Decode(_ids);
            delta = whole.Length > Text.Length ? whole[Text.Length..] : "";
        }
        (_prefixOffset, _readOffset) = (_ids.Count, _ids.Count);
        _prefixText = "";
        Text.Append(delta);
        return delta;
    }

    private IEnumerable<int> Window(int from, int to)
    {
        for (var i = from; i < to; i++)
            yield return _ids[i];
    }
}
