using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>Small helpers over the gateway's HTTP API.</summary>
public static class Api
{
    public static readonly string DemoCorpus = File.ReadAllText(Path.Combine(PlatformStack.RepoRoot, "infra", "demo",
        "tinyshakespeare.txt"));

    public static async Task<(HttpStatusCode Status, JsonNode? Body)> UploadAsync(HttpClient http, byte[] corpus,
        string name,
        string? autoTrain = null, string contentType = "text/plain", string? validationFraction = null,
        string? tokenizer = null, byte[]? tokenizerFile = null, string? format = null)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(corpus);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "file", "corpus.txt");
        if (name.Length > 0)
            form.Add(new StringContent(name), "name");
        if (autoTrain is not null)
            form.Add(new StringContent(autoTrain), "autoTrain");
        if (validationFraction is not null)
            form.Add(new StringContent(validationFraction), "validationFraction");
        if (tokenizer is not null)
            form.Add(new StringContent(tokenizer), "tokenizer");
        if (tokenizerFile is not null)
            form.Add(new ByteArrayContent(tokenizerFile), "tokenizerFile", "tokenizer.json");
        if (format is not null)
            form.Add(new StringContent(format), "format");
        using var response = await http.PostAsync("/api/datasets", form);
        return (response.StatusCode, await ReadAsync(response));
    }

    /// <summary>Creates an API key with the admin client; returns its id and secret.</summary>
    public static async Task<(string Id, string Key)> CreateKeyAsync(HttpClient admin, string name, string role,
        int? requestsPerSecond = null,
        int? maxConcurrentGenerations = null)
    {
        var body = new JsonObject { ["name"] = name, ["role"] = role };
        if (requestsPerSecond is { } rps)
            body["requestsPerSecond"] = rps;
        if (maxConcurrentGenerations is { } generations)
            body["maxConcurrentGenerations"] = generations;
        var (status, key) = await PostJsonAsync(admin, "/api/keys", body.ToJsonString());
        Assert.True(status == HttpStatusCode.Created, $"creating key {name} answered {(int)status}: {key}");
        return (key!["id"]!.GetValue<string>(), key["key"]!.GetValue<string>());
    }

    public static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpClient http, HttpMethod method,
        string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await ReadAsync(response));
    }

    public static async Task<(HttpStatusCode Status, JsonNode? Body)> PostJsonAsync(HttpClient http, string path,
        string json)
    {
        using var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await ReadAsync(response));
    }

    public static async Task<(HttpStatusCode Status, JsonNode? Body)> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return (response.StatusCode, await ReadAsync(response));
    }

    public static async Task<JsonNode> GetOkAsync(HttpClient http, string path)
    {
        var (status, body) = await GetAsync(http, path);
        Assert.True(status == HttpStatusCode.OK, $"GET {path} answered {(int)status}: {body}");
        return body!;
    }

    /// <summary>Creates a run (POST /api/runs) and waits for it to end, failing unless it ends Completed.</summary>
    public static async Task<JsonNode> TrainToEndAsync(HttpClient http, string json, Func<string> logs)
    {
        var (status, run) = await PostJsonAsync(http, "/api/runs", json);
        Assert.True(status == HttpStatusCode.Accepted, $"run answered {(int)status}: {run}");
        var id = run!["id"]!.GetValue<string>();
        var ended = await EventuallyAsync(() => GetOkAsync(http, $"/api/runs/{id}"),
            r => r["state"]!.GetValue<string>() is "Completed" or "Failed" or "Cancelled", TimeSpan.FromMinutes(3),
            logs);
        Assert.True(ended["state"]!.GetValue<string>() == "Completed", $"run ended {ended}\n{logs()}");
        return ended;
    }

    /// <summary>Uploads <paramref name="text"/> as a dataset with the char tokenizer, waits until it is tokenized, and
    /// returns its id.</summary>
    public static async Task<string> TokenizedDatasetAsync(HttpClient http, string text, string name, TimeSpan deadline,
        Func<string> logs, string tokenizer = "char")
    {
        var (status, dataset) = await UploadAsync(http, Encoding.UTF8.GetBytes(text), name, tokenizer: tokenizer);
        Assert.True(status == HttpStatusCode.Accepted, $"upload answered {(int)status}: {dataset}");
        var id = dataset!["id"]!.GetValue<string>();
        await EventuallyAsync(() => GetOkAsync(http, $"/api/datasets/{id}"), d =>
            d["state"]!.GetValue<string>() == "Tokenized", deadline, logs);
        return id;
    }

    /// <summary>Posts a run on a dataset (<paramref name="spec"/>: its "model" and "training" members) and returns its
    /// id.</summary>
    public static async Task<string> StartRunAsync(HttpClient http, string datasetId, string name, string spec,
        Func<string> logs)
    {
        var (status, run) = await PostJsonAsync(http, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"{name}\",{spec}}}");
        Assert.True(status == HttpStatusCode.Accepted, $"run answered {(int)status}: {run}\n{logs()}");
        return run!["id"]!.GetValue<string>();
    }

    /// <summary>Whether the process at that address answers /health/ready (the gateway's: a replica of every service
    /// does).</summary>
    public static async Task<bool> ReadyAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port}/health/ready");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>How many times needle occurs in text (e.g. a log line).</summary>
    public static int CountOf(string text, string needle)
    {
        var count = 0;
        for (var at = text.IndexOf(needle, StringComparison.Ordinal); at >= 0; at = text.IndexOf(needle, at
            + needle.Length, StringComparison.Ordinal))
            count++;
        return count;
    }

    /// <summary>Polls until the predicate holds, failing with the last value (and the services' logs) at the
    /// deadline.</summary>
    /// <summary>
    /// Waits until GET <paramref name="path"/> answers <paramref name="status"/> (what another service learns by an
    /// event, e.g. a dataset's sharing, shows there a moment later).
    /// </summary>
    public static Task<JsonNode> EventuallyAnswersAsync(HttpClient http, string path, HttpStatusCode status,
        Func<string> logs,
        int seconds = 30) =>
        EventuallyAsync(async () => new JsonObject { ["status"] = (int)(await GetAsync(http, path)).Status },
            r => r["status"]!.GetValue<int>() == (int)status, TimeSpan.FromSeconds(seconds), logs);

    public static async Task<JsonNode> EventuallyAsync(Func<Task<JsonNode>> probe, Func<JsonNode, bool> done,
        TimeSpan timeout, Func<string> logs)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonNode last;
        do
        {
            last = await probe();
            if (done(last))
                return last;
            await Task.Delay(250);
        } while (DateTime.UtcNow < deadline);
        // The logs first: where a long failure is cut, its head goes, and what was awaited stays readable.
        Assert.Fail($"{logs()}\nCondition not met within {timeout}: last value {last}");
        return last;
    }

    public static async Task<JsonNode?> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (text.Length == 0)
            return null;
        try
        {
            return JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    /// <summary>Files under a folder whose bytes contain the marker (a file being written is read once its writer
    /// closes it).</summary>
    public static List<string> FilesContaining(string root, string marker)
    {
        var needle = Encoding.UTF8.GetBytes(marker);
        return Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Where(f => ReadWhenClosed(f).AsSpan().IndexOf(needle) >= 0)
                .Select(f => Path.GetRelativePath(root, f)).ToList()
            : [];
    }

    private static byte[] ReadWhenClosed(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return File.ReadAllBytes(path);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                return [];
            }
            catch (IOException) when (attempt < 100)
            {
                Thread.Sleep(100);
            }
        }
    }
}
