namespace Platform.Tokenizers;

public static class TextChunks
{
    public const int DefaultChunkChars = 1 << 16;

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
