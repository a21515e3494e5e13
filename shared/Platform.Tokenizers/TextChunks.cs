namespace Platform.Tokenizers;

public static class TextChunks
{
    public const int DefaultChunkChars = 1 << 16;

    /// <summary>
    /// Reads text in chunks cut only just before a newline that is followed by a non-space character, where
    /// GPT-2's pre-tokenizer always splits: encoding the chunks separately gives the same tokens as encoding the
    /// whole text. (Not just after that newline: a run of whitespace before a word ends in a piece of its own, its
    /// last character, so "\n\nFirst" splits as "\n", "\n", "First", whereas "\n\n" at the end of a chunk would be
    /// one piece.) A text with no such place for a long stretch yields one larger chunk.
    /// </summary>
    public static IEnumerable<string> ReadAtSafeBreaks(TextReader reader, int chunkChars = DefaultChunkChars)
    {
        var pending = new System.Text.StringBuilder();
        foreach (var piece in Read(reader, chunkChars))
        {
            pending.Append(piece);
            if (pending.Length < chunkChars)
                continue;
            var cut = LastSafeBreak(pending);
            if (cut <= 0)
                continue;
            yield return pending.ToString(0, cut);
            pending.Remove(0, cut);
        }
        if (pending.Length > 0)
            yield return pending.ToString();
    }

    private static int LastSafeBreak(System.Text.StringBuilder text)
    {
        for (var i = text.Length - 1; i > 0; i--)
            if (text[i - 1] == '\n' && !char.IsWhiteSpace(text[i]))
                return i - 1;
        return -1;
    }

    /// <summary>Reads text in chunks that never split a surrogate pair.</summary>
    public static IEnumerable<string> Read(TextReader reader, int chunkChars = DefaultChunkChars)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkChars, 2);
        var buffer = new char[chunkChars];
        var carried = 0;
        while (true)
        {
            var read = reader.Read(buffer, carried, buffer.Length - carried);
            var length = carried + read;
            if (read == 0)
            {
                if (length > 0)
                    yield return new string(buffer, 0, length);
                yield break;
            }
            // A high surrogate at the end waits for its low half in the next read.
            var emit = char.IsHighSurrogate(buffer[length - 1]) ? length - 1 : length;
            if (emit > 0)
                yield return new string(buffer, 0, emit);
            carried = length - emit;
            if (carried == 1)
                buffer[0] = buffer[length - 1];
        }
    }
}
