using System.Net.ServerSentEvents;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.Cli;

/// <summary>An answer other than success: its status and RFC 7807 problem (or, from OpenAI's routes, OpenAI's error
/// envelope), said plainly by <see cref="Describe"/>.</summary>
public sealed class PlatformException(int status, JsonNode? problem, string? message = null)
    : Exception(message ?? problem?["detail"]?.ToString() ?? problem?["title"]?.ToString()
        ?? problem?["error"]?["message"]?.ToString() ?? $"HTTP {status}")
{
    public int Status { get; } = status;
    public JsonNode? Problem { get; } = problem;
    public int ExitCode => Status == 0 ? ExitCodes.Unavailable : ExitCodes.ForStatus(Status);

    public string Describe()
    {
        var lines = new List<string> { Status == 0 ? Message : $"{Status}: {Problem?["title"] ?? Message}" };
        if (Problem?["detail"]?.ToString() is { Length: > 0 } detail && detail != Problem?["title"]?.ToString())
            lines.Add(detail);
        foreach (var (field, messages) in Problem?["errors"]?.AsObject() ?? [])
            lines.Add($"  {field}: {string.Join(" ", messages!.AsArray().Select(m => m!.ToString()))}");
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>The public API through the gateway, with the caller's key.</summary>
public sealed class PlatformClient(CliConfig config) : IDisposable
{
    private readonly HttpClient _http = Create(config);

    private static HttpClient Create(CliConfig config)
    {
        var http = new HttpClient { BaseAddress = new Uri(config.Url + "/"), Timeout = Timeout.InfiniteTimeSpan };
        if (config.Key is { Length: > 0 } key)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        http.DefaultRequestHeaders.UserAgent.ParseAdd("platform-cli/1.0");
        return http;
    }

    public void Dispose() => _http.Dispose();

    public Task<JsonNode?> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, null, cancellationToken);

    public Task<JsonNode?> SendJsonAsync(HttpMethod method, string path, JsonNode? body,
        CancellationToken cancellationToken) =>
        SendAsync(method, path, body is null ? null
        : new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), cancellationToken);

    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, HttpContent? content,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/')) { Content = content };
        using var response = await SendRequestAsync(request, HttpCompletionOption.ResponseContentRead,
            cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>
    /// Writes a file the platform serves to <paramref name="path"/> on disk: into a temporary file beside it first, so
    /// a refused or broken download leaves nothing behind. Returns the bytes written.
    /// </summary>
    public async Task<long> DownloadAsync(string route, string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, route.TrimStart('/'));
        using var response = await SendRequestAsync(request, HttpCompletionOption.ResponseHeadersRead,
            cancellationToken);
        var partial = path + ".partial";
        try
        {
            await using (var body = await response.Content.ReadAsStreamAsync(cancellationToken))
            await using (var file = File.Create(partial))
                await body.CopyToAsync(file, cancellationToken);
            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
        return new FileInfo(path).Length;
    }

    /// <summary>Server-Sent Events: (event, data) as they arrive, until the stream ends.</summary>
    public async IAsyncEnumerable<(string Event, string Data)> StreamAsync(HttpMethod method, string path,
        JsonNode? body,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'))
        {
            Content = body is null ? null : new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await SendRequestAsync(request, HttpCompletionOption.ResponseHeadersRead,
            cancellationToken);
        // .NET's own parser: multi-line data fields are joined with newlines, as the specification says.
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken))
            yield return (item.EventType, item.Data);
    }

    private async Task<HttpResponseMessage> SendRequestAsync(HttpRequestMessage request,
        HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        if (config.Key is not { Length: > 0 })
            throw new PlatformException(401, null, "No API key: run `platform login`, or set PLATFORM_API_KEY.");
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new PlatformException(0, null, $"The platform at {config.Url} did not answer: {ex.Message}");
        }
        if (response.IsSuccessStatusCode)
            return response;
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonNode? problem = null;
            try
            {
                problem = text.Length > 0 ? JsonNode.Parse(text) : null;
            }
            catch (System.Text.Json.JsonException)
            {
            }
            throw new PlatformException((int)response.StatusCode, problem,
                response.StatusCode == HttpStatusCode.TooManyRequests
                ? $"Too many requests; retry after {response.Headers.RetryAfter?.Delta?.TotalSeconds ?? 1} s." : null);
        }
    }
}
