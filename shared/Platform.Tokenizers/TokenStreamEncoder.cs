namespace Platform.Tokenizers;

/// <summary>
/// Encodes a text stream into a token file: chunks cut where tokenization cannot change, encoded on all cores a
/// batch at a time and written in order. Memory holds one batch of chunks, whatever the size of the text.
/// </summary>
public static class TokenStreamEncoder
{
    public static long Encode(ITokenizer tokenizer, TextReader reader, Stream output, CancellationToken cancellationToken = default)
    {
        using var writer = new TokenFileWriter(output, TokenFileInfo.DTypeFor(tokenizer.VocabSize));
        foreach (var batch in TextChunks.ReadAtSafeBreaks(reader).Chunk(Environment.ProcessorCount * 4))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var ids in batch.AsParallel().AsOrdered().Select(tokenizer.Encode))
                writer.Write(ids);
        }
        writer.Flush();
        return writer.Count;
    }
}
