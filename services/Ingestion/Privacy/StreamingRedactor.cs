using System.Text;

namespace Ingestion.Privacy;

/// <summary>
/// Redacts text that arrives in chunks, so an upload is never held whole and never written unredacted. Text is
/// redacted in blocks that end at a line break, or in a line longer than <see cref="MaxPendingChars"/> after a
/// character no kind can contain (punctuation such as ",;!?", tabs, any non-ASCII character), so a match is never
/// cut in two and every pattern sees the same boundaries it would in the whole text.
/// </summary>
public sealed class StreamingRedactor(PiiRedactor redactor)
{
    public const int MaxPendingChars = 1 << 20;
    private readonly StringBuilder _pending = new();

    public PiiRedactor Redactor { get; } = redactor;

    /// <summary>Takes the next chunk; returns the redacted text that can be written now (all of it when
    /// final).</summary>
    public string Push(ReadOnlySpan<char> chunk, bool final)
    {
        _pending.Append(chunk);
        // Everything up to the last line break was cut at an earlier push, so only this chunk can hold one.
        var newline = chunk.LastIndexOf('\n');
        var cut = final ? _pending.Length
            : newline >= 0 ? _pending.Length - chunk.Length + newline + 1
            : LongLineCut();
        if (cut == 0)
            return "";
        var block = _pending.ToString(0, cut);
        _pending.Remove(0, cut);
        return Redactor.Redact(block);
    }

    /// <summary>Where a line longer than <see cref="MaxPendingChars"/> may be cut (0: not yet that long).</summary>
    private int LongLineCut()
    {
        if (_pending.Length < MaxPendingChars)
            return 0;
        for (var i = _pending.Length - 1; i >= _pending.Length - MaxPendingChars / 2; i--)
            if (IsBoundary(_pending[i]) && !char.IsHighSurrogate(_pending[i]))
                return i + 1;
        // A megabyte of letters, digits and the few punctuation marks patterns use, without one break: cut anyway.
        return char.IsHighSurrogate(_pending[^1]) ? _pending.Length - 1 : _pending.Length;
    }

    private static bool IsBoundary(char c) => c > 0x7F
        || c is '\t' or ',' or ';' or '!' or '?' or '"' or '\'' or '<' or '>' or '[' or ']'
        or '{' or '}' or '|' or '\\' or '/' or '*' or '=' or '#' or '&' or '^' or '`' or '~' or '$';
}
