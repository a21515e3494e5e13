using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Platform.ServiceDefaults;

/// <summary>Reading a multipart upload (model weights, word vectors), refused as a 415 when it is not multipart and a
/// 413 past the size limit.</summary>
public static class MultipartUpload
{
    public static async Task<(IFormCollection? Form, ProblemHttpResult? Problem)> ReadFormAsync(HttpRequest request,
        long maxBytes, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
            return (null,
                TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType,
                    title: "Unsupported media type.",
                detail: "Send multipart/form-data."));
        try
        {
            return (await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = maxBytes + (16 << 20) },
                cancellationToken), null);
        }
        catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "Upload too large.",
                detail: $"Files are limited to {maxBytes:N0} bytes."));
        }
    }
}
