using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Platform.ServiceDefaults.Http;

/// <summary>OpenAI's error object: what its clients parse from any failed call.</summary>
public sealed record OpenAIError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);

public sealed record OpenAIErrorEnvelope([property: JsonPropertyName("error")] OpenAIError Error);

/// <summary>
/// Writes every problem on an OpenAI-shaped route (<c>/v1/…</c>) as OpenAI's envelope,
/// <c>{"error":{"message","type","param","code"}}</c>, instead of RFC 7807: the same refusals (a bad field, an unknown
/// model, a missing key, a rate limit), in the shape OpenAI's clients read. Registered ahead of the default writer,
/// so <c>/api</c> keeps RFC 7807.
/// </summary>
public sealed class OpenAIErrorWriter : IProblemDetailsWriter
{
    public const string PathPrefix = "/v1";

    public bool CanWrite(ProblemDetailsContext context) =>
        context.HttpContext.Request.Path.StartsWithSegments(PathPrefix);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var envelope = Envelope(context.ProblemDetails, http.Response.StatusCode);
        http.Response.ContentType = "application/json";
        return new ValueTask(JsonSerializer.SerializeAsync(http.Response.Body, envelope,
            cancellationToken: http.RequestAborted));
    }

    /// <summary>The envelope for a problem answered with <paramref name="status"/>.</summary>
    public static OpenAIErrorEnvelope Envelope(ProblemDetails problem, int status)
    {
        var errors = problem is HttpValidationProblemDetails invalid
            ? invalid.Errors.Where(e => e.Value.Length > 0).ToList()
            : [];
        var param = errors.Count > 0 ? errors[0].Key : null;
        // Every field at fault is named in the message; param holds the first, as OpenAI's has one.
        var message = errors.Count > 0
            ? string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))
            : problem.Detail ?? problem.Title ?? "The request failed.";
        var (type, code) = (problem.Status ?? status) switch
        {
            StatusCodes.Status401Unauthorized => ("invalid_request_error", "invalid_api_key"),
            StatusCodes.Status403Forbidden => ("invalid_request_error", "permission_denied"),
            StatusCodes.Status404NotFound => ("invalid_request_error", "not_found"),
            StatusCodes.Status409Conflict => ("invalid_request_error", "conflict"),
            StatusCodes.Status413PayloadTooLarge => ("invalid_request_error", "request_too_large"),
            StatusCodes.Status429TooManyRequests => ("requests", "rate_limit_exceeded"),
            >= 500 => ("server_error", null),
            _ => ("invalid_request_error", param is null ? null : "invalid_value"),
        };
        return new OpenAIErrorEnvelope(new OpenAIError(message, type, param, code));
    }
}
