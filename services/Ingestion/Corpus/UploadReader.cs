using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Platform.Storage;

namespace Ingestion.Corpus;

/// <summary>An upload's normalised text and optional tokenizer file, staged in the artifact store, and its form fields.</summary>
public sealed class Upload(StagedArtifact staged, CorpusStats stats, IReadOnlyDictionary<string, string> fields, StagedArtifact? tokenizerFile) : IDisposable
{
    public StagedArtifact Staged { get; } = staged;
    public CorpusStats Stats { get; } = stats;
    public IReadOnlyDictionary<string, string> Fields { get; } = fields;
    /// <summary>A tokenizer.json sent as the multipart part "tokenizerFile", to use instead of training one.</summary>
    public StagedArtifact? TokenizerFile { get; } = tokenizerFile;

    public void Dispose()
    {
        Staged.Dispose();
        TokenizerFile?.Dispose();
    }
}

/// <summary>
/// Reads a corpus upload as it arrives, without buffering the whole request: either multipart/form-data
/// (field "file" plus form fields) or a raw text/plain body (fields from the query string).
/// </summary>
public static class UploadReader
{
    private const int MaxFieldBytes = 64 * 1024;
    public const long MaxTokenizerFileBytes = 64L * 1024 * 1024;

    public static async Task<Upload> ReadAsync(HttpRequest request, ArtifactStore store, long maxBytes, CancellationToken cancellationToken)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var staged = store.Stage();
        StagedArtifact? tokenizerFile = null;
        try
        {
            CorpusStats? stats = null;
            if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            {
                var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
                if (string.IsNullOrEmpty(boundary))
                    throw new CorpusRejectedException("The multipart body has no boundary.");
                var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
                while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
                {
                    if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                        continue;
                    var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                    if (name.Equals("tokenizerFile", StringComparison.OrdinalIgnoreCase))
                    {
                        tokenizerFile ??= store.Stage();
                        await using var output = tokenizerFile.OpenWrite();
                        await CopyLimitedAsync(section.Body, output, MaxTokenizerFileBytes, "tokenizerFile", cancellationToken);
                    }
                    else if (name.Equals("file", StringComparison.OrdinalIgnoreCase) || disposition.FileName.HasValue || disposition.FileNameStar.HasValue)
                    {
                        if (stats is not null)
                            throw new CorpusRejectedException("Send exactly one file per upload.");
                        await using var output = staged.OpenWrite();
                        stats = await CorpusNormaliser.NormaliseAsync(section.Body, output, maxBytes, cancellationToken);
                    }
                    else
                    {
                        fields[name] = await ReadFieldAsync(section.Body, name, cancellationToken);
                    }
                }
                if (stats is null)
                    throw new CorpusRejectedException("The multipart body has no 'file' part holding the corpus.");
            }
            else if (type?.MediaType.Value?.StartsWith("text/", StringComparison.OrdinalIgnoreCase) == true)
            {
                foreach (var (key, value) in request.Query)
                    fields[key] = value.ToString();
                await using var output = staged.OpenWrite();
                stats = await CorpusNormaliser.NormaliseAsync(request.Body, output, maxBytes, cancellationToken);
            }
            else
            {
                throw new CorpusRejectedException("Send the corpus as multipart/form-data (field 'file') or as a text/plain body.",
                    StatusCodes.Status415UnsupportedMediaType);
            }
            return new Upload(staged, stats, fields, tokenizerFile);
        }
        catch
        {
            staged.Dispose();
            tokenizerFile?.Dispose();
            throw;
        }
    }

    private static async Task CopyLimitedAsync(Stream input, Stream output, long limit, string field, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
            if (total > limit)
                throw new CorpusRejectedException($"{field} is larger than {limit:N0} bytes.", StatusCodes.Status413PayloadTooLarge);
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    private static async Task<string> ReadFieldAsync(Stream body, string name, CancellationToken cancellationToken)
    {
        using var memory = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (memory.Length + read > MaxFieldBytes)
                throw new CorpusRejectedException($"Form field '{name}' is longer than {MaxFieldBytes:N0} bytes.");
            memory.Write(buffer, 0, read);
        }
        return Encoding.UTF8.GetString(memory.GetBuffer(), 0, (int)memory.Length);
    }
}
