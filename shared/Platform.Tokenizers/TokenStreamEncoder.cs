using System.Runtime.ExceptionServices;

namespace Platform.Tokenizers;

/// <summary>
/// Encodes a text stream into a token file: chunks cut where tokenization cannot change, encoded on all cores a
/// batch at a time and written in order. Memory holds one batch of chunks, whatever the size of the text. A chunk
/// that cannot be encoded throws the tokenizer's own exception (UnknownTokenException, say), not PLINQ's wrapper.
/// </summary>
public static class TokenStreamEncoder
{
    /// <param name="threads">Chunks encoded at once; all cores by default.</param>
    public static long Encode(ITokenizer tokenizer, TextReader reader, Stream output,
        CancellationToken cancellationToken = default,
        int? threads = null)
    {
        var parallelism = threads ?? Environment.ProcessorCount;
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1, nameof(threads));
        using var writer = new TokenFileWriter(output, TokenFileInfo.DTypeFor(tokenizer.VocabSize));
        foreach (var batch in TextChunks.ReadAtSafeBreaks(reader).Chunk(parallelism * 4))
        {
            cancellationToken.ThrowIfCancellationRequested();
            List<int[]> encoded;
            try
            {
                encoded = batch.AsParallel().AsOrdered().WithDegreeOfParallelism(parallelism).Select(tokenizer.Encode)
                    .ToList();
            }
            catch (AggregateException ex)
            {
                ExceptionDispatchInfo.Throw(ex.Flatten().InnerExceptions[0]);
                throw;
            }
            foreach (var ids in encoded)
                writer.Write(ids);
        }
        writer.Flush();
        return writer.Count;
    }
}
