using System.Security.Cryptography;
using System.Text;

namespace Ingestion.Corpus;

public sealed record CorpusStats(string Sha256, long Bytes, long Characters, long Lines);

/// <summary>The upload is not acceptable; Message says why, for the user, and Field names the part at fault.</summary>
public sealed class CorpusRejectedException(string message, int statusCode = StatusCodes.Status400BadRequest,
    string field = "file") : Exception(message)
{
    public int StatusCode { get; } = statusCode;
    public string Field { get; } = field;
}

/// <summary>
/// Streams an upload once: rejects anything that is not UTF-8 text, drops a byte-order mark, turns CRLF and
/// lone CR into LF, redacts personal data when asked, and writes the result while hashing and counting it. Memory
/// stays at one buffer (plus the redactor's current line) whatever the upload's size. Sha256, bytes, characters
/// (Unicode scalar values) and lines describe the written text, which is what is stored and trained on.
/// </summary>
public static class CorpusNormaliser
{
    private const int BufferBytes = 1 << 16;

    public static async Task<CorpusStats> NormaliseAsync(Stream input, Stream output, long maxBytes,
        CancellationToken cancellationToken,
        Privacy.StreamingRedactor? redactor = null)
    {
        var decoder = new UTF8Encoding(false, throwOnInvalidBytes: true).GetDecoder();
        var encoder = new UTF8Encoding(false).GetEncoder();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var inBytes = new byte[BufferBytes];
        var chars = new char[BufferBytes + 1];
        var normalised = new char[BufferBytes + 1];
        var outBytes = new byte[(BufferBytes + 1) * 4];
        long rawBytes = 0, writtenBytes = 0, characters = 0, lines = 0;
        var previousWasCr = false;
        var atStart = true;
        var lastChar = '\0';

        while (true)
        {
            var read = await input.ReadAsync(inBytes, cancellationToken);
            rawBytes += read;
            if (rawBytes > maxBytes)
                throw new CorpusRejectedException($"The upload is larger than the limit of {maxBytes:N0} bytes.",
                    StatusCodes.Status413PayloadTooLarge);

            int charCount;
            try
            {
                charCount = decoder.GetChars(inBytes, 0, read, chars, 0, flush: read == 0);
            }
            catch (DecoderFallbackException ex)
            {
                var offset = rawBytes - read + Math.Max(0, ex.Index);
                throw new CorpusRejectedException($"The upload is not valid UTF-8 text (invalid byte sequence near " +
                    $"byte {offset:N0}).");
            }

            var n = 0;
            for (var i = 0; i < charCount; i++)
            {
                var c = chars[i];
                if (atStart)
                {
                    atStart = false;
                    if (c == '\uFEFF')
                        continue;
                }
                if (c == '\0')
                    throw new CorpusRejectedException("The upload contains NUL characters: it looks like a binary " +
                        "file, not text.");
                if (c == '\n' && previousWasCr)
                {
                    previousWasCr = false;
                    continue;
                }
                previousWasCr = c == '\r';
                if (previousWasCr)
                    c = '\n';
                normalised[n++] = c;
            }

            ReadOnlyMemory<char> text = redactor is null ? normalised.AsMemory(0, n)
                : redactor.Push(normalised.AsSpan(0, n), final: read == 0).AsMemory();
            foreach (var c in text.Span)
            {
                if (c == '\n')
                    lines++;
                if (!char.IsLowSurrogate(c))
                    characters++;
                lastChar = c;
            }
            var encoded = text.Length <= BufferBytes + 1 ? outBytes
                : new byte[Encoding.UTF8.GetMaxByteCount(text.Length)];
            var byteCount = encoder.GetBytes(text.Span, encoded, flush: read == 0);
            hash.AppendData(encoded, 0, byteCount);
            await output.WriteAsync(encoded.AsMemory(0, byteCount), cancellationToken);
            writtenBytes += byteCount;
            if (read == 0)
                break;
        }

        if (characters == 0 || writtenBytes == 0)
            throw new CorpusRejectedException("The upload is empty: a corpus needs at least one character of text.");
        if (lastChar != '\n')
            lines++;
        return new CorpusStats(Convert.ToHexStringLower(hash.GetHashAndReset()), writtenBytes, characters, lines);
    }
}
