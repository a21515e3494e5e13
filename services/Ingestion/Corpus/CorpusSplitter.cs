namespace Ingestion.Corpus;

/// <summary>
/// Deterministic train/validation split, as nanoGPT does it: the first (1 - fraction) of the text trains, the
/// tail validates. The cut moves forward to the next line start so no line is torn, unless that would leave
/// the validation split empty, in which case it moves only to the next UTF-8 character boundary.
/// </summary>
public static class CorpusSplitter
{
    public static long FindSplit(Stream corpus, long length, double validationFraction)
    {
        if (length < 2)
            throw new CorpusRejectedException("The corpus is too small to split into non-empty train and validation " +
                "parts.");
        var target = Math.Clamp((long)Math.Floor(length * (1 - validationFraction)), 1, length - 1);
        corpus.Position = target - 1;
        var previous = corpus.ReadByte();
        long? charBoundary = null;
        var position = target;
        var buffer = new byte[1 << 16];
        int read;
        while ((read = corpus.Read(buffer)) > 0)
        {
            for (var i = 0; i < read; i++, position++)
            {
                if (previous == '\n')
                    return position;
                if (charBoundary is null && (buffer[i] & 0xC0) != 0x80)
                    charBoundary = position;
                previous = buffer[i];
            }
        }
        return charBoundary
            ?? throw new CorpusRejectedException("The corpus is too small to split into non-empty train and " +
            "validation parts.");
    }

    /// <summary>Copies [start, end) of the corpus to the output.</summary>
    public static async Task CopyRangeAsync(Stream corpus, long start, long end, Stream output,
        CancellationToken cancellationToken)
    {
        corpus.Position = start;
        var buffer = new byte[1 << 16];
        var remaining = end - start;
        while (remaining > 0)
        {
            var read = await corpus.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)),
                cancellationToken);
            if (read == 0)
                throw new EndOfStreamException();
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            remaining -= read;
        }
    }
}
