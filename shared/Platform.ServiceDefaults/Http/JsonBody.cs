using System.Text.Json.Nodes;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Platform.ServiceDefaults.Http;

/// <summary>
/// Reads a JSON request body so that a malformed or mistyped body answers 400 naming the field at fault
/// (e.g. "model.nLayer"), where model binding would only say the body could not be read.
/// </summary>
public static class JsonBody
{
    public const long MaxBodyBytes = 1024 * 1024;

    public static async Task<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(HttpRequest request,
        CancellationToken cancellationToken) where T : class
    {
        if (request.ContentLength > MaxBodyBytes)
            return (null, TooLarge());
        if (!request.HasJsonContentType())
            return (null,
                TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type.",
                detail: "Send the request body as application/json."));
        // Content-Length alone bounds nothing when the body is chunked: the server's own limit, set for this request
        // before anything is read, bounds whatever arrives.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = MaxBodyBytes;
        var options = Options(request);
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, options, cancellationToken);
            return value is null ? (null, Invalid("body", "is required.")) : (value, null);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge());
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.TrimStart('$', '.');
            var reason = ex.Message.Split(" Path:", 2)[0];
            return (null, Invalid(field, reason));
        }
    }

    /// <summary>The JSON options the application binds request bodies with (web defaults: camelCase,
    /// case-insensitive).</summary>
    public static JsonSerializerOptions Options(HttpRequest request) =>
        request.HttpContext.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>()
        .Value.SerializerOptions;

    /// <summary>
    /// Binds a body already read as JSON (a caller that also needs the raw fields, e.g. to know which ones were sent)
    /// to
    /// <typeparamref name="T"/>, with the same 400 naming the field when a value has the wrong type.
    /// </summary>
    public static (T? Value, ProblemHttpResult? Problem) Bind<T>(JsonNode node, HttpRequest request) where T : class =>
        Bind<T>(node, Options(request));

    /// <summary>The same, with the application's JSON options given (a consumer has no request to take them
    /// from).</summary>
    public static (T? Value, ProblemHttpResult? Problem) Bind<T>(JsonNode node, JsonSerializerOptions options)
        where T : class
    {
        try
        {
            var value = node.Deserialize<T>(options);
            return value is null ? (null, Invalid("body", "is required.")) : (value, null);
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.TrimStart('$', '.');
            return (null, Invalid(field, ex.Message.Split(" Path:", 2)[0]));
        }
    }

    private static ProblemHttpResult TooLarge() =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request body too large.",
        detail: $"JSON bodies are limited to {MaxBodyBytes:N0} bytes.",
        extensions: new Dictionary<string,
        object?>
        {
            ["errors"] = new Dictionary<string,
        string[]>
            { ["body"] = [$"is larger than {MaxBodyBytes:N0} bytes."] }
        });

    private static ProblemHttpResult Invalid(string field, string message) =>
        Problems.Invalid(field, message, "The request body is invalid.");
}
