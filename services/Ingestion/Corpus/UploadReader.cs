using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Ingestion.Privacy;
using Microsoft.Net.Http.Headers;
using Platform.Storage;

namespace Ingestion.Corpus;

/// <summary>An upload's normalised (and, when asked, redacted) text and optional tokenizer file, staged in the artifact
/// store, and its form fields.</summary>
public sealed class Upload(StagedArtifact staged, CorpusStats stats, IReadOnlyDictionary<string, string> fields,
    StagedArtifact? tokenizerFile,
    PiiRedactor? redaction) : IDisposable
{
    public StagedArtifact Staged { get; } = staged;
    public CorpusStats Stats { get; } = stats;
    /// <summary>What was redacted, when the upload asked for it.</summary>
    public PiiRedactor? Redaction { get; } = redaction;
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
/// (field "file" plus form fields) or a raw text/plain body (fields from the query string). The text is redacted
/// as it streams, so personal data is never written anywhere: "redact" must therefore be known before the file
/// arrives (a query parameter, or a form field sent before the "file" part).
/// </summary>
public static class UploadReader
{
    private const int MaxFieldBytes = 64 * 1024;
    public const long MaxTokenizerFileBytes = 64L * 1024 * 1024;
    public const string RedactField = "redact";

    public static async Task<Upload> ReadAsync(HttpRequest request, ArtifactStore store, long maxBytes,
        CancellationToken cancellationToken)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var staged = store.Stage();
        StagedArtifact? tokenizerFile = null;
        try
        {
            CorpusStats? stats = null;
            StreamingRedactor? redactor = null;
            if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
                && type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
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
                        await CopyLimitedAsync(section.Body, output, MaxTokenizerFileBytes, "tokenizerFile",
                            cancellationToken);
                    }
                    else if (name.Equals("file", StringComparison.OrdinalIgnoreCase) || disposition.FileName.HasValue
                        || disposition.FileNameStar.HasValue)
                    {
                        if (stats is not null)
                            throw new CorpusRejectedException("Send exactly one file per upload.");
                        redactor = RedactorFor(fields, request.Query);
                        await using var output = staged.OpenWrite();
                        stats = await CorpusNormaliser.NormaliseAsync(section.Body, output, maxBytes, cancellationToken,
                            redactor);
                    }
                    else
                    {
                        if (stats is not null && name.Equals(RedactField, StringComparison.OrdinalIgnoreCase))
                            throw new CorpusRejectedException("must come before the 'file' part (or be given in the " +
                                "query string): the corpus is redacted as it arrives, so nothing unredacted is ever " +
                                "written.",
                                field: RedactField);
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
                redactor = RedactorFor(fields, request.Query);
                await using var output = staged.OpenWrite();
                stats = await CorpusNormaliser.NormaliseAsync(request.Body, output, maxBytes, cancellationToken,
                    redactor);
            }
            else
            {
                throw new CorpusRejectedException("Send the corpus as multipart/form-data (field 'file') or as a " +
                    "text/plain body.",
                    StatusCodes.Status415UnsupportedMediaType);
            }
            return new Upload(staged, stats, fields, tokenizerFile, redactor?.Redactor);
        }
        catch
        {
            staged.Dispose();
            tokenizerFile?.Dispose();
            throw;
        }
    }

    /// <summary>The redactor the "redact" option asks for (form field or query), or null when it asks for
    /// none.</summary>
    private static StreamingRedactor? RedactorFor(Dictionary<string, string> fields, IQueryCollection query)
    {
        var value = fields.GetValueOrDefault(RedactField) ?? query[RedactField].ToString();
        fields[RedactField] = value;
        var kinds = RedactionKinds.Parse(value, out var error)
            ?? throw new CorpusRejectedException(error!, field: RedactField);
        return kinds.Count == 0 ? null : new StreamingRedactor(new PiiRedactor(kinds));
    }

    private static async Task CopyLimitedAsync(Stream input, Stream output, long limit, string field,
        CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
            if (total > limit)
                throw new CorpusRejectedException($"{field} is larger than {limit:N0} bytes.",
                    StatusCodes.Status413PayloadTooLarge);
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
