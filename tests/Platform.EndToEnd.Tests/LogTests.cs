using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>No secret and no uploaded or prompted text reaches any service's log.</summary>
[Collection(PlatformCollection.Name)]
public sealed class LogTests(PlatformStack stack)
{
    private HttpClient Admin => stack.Gateway;

    [Fact]
    public async Task Logs_hold_no_key_no_connection_password_and_no_text_users_sent()
    {
        var marker = "Marker" + Guid.NewGuid().ToString("N");
        var (_, key) = await Api.CreateKeyAsync(Admin, "log-watcher", "editor");
        using var editor = PlatformStack.ClientWithKey(key);

        // A corpus, a tokenization that fails on the text, an encode that fails on it, a prompt, a bad run name.
        var (_, small) = await Api.UploadAsync(editor, "abc abc\ncab\n"u8.ToArray(), "abc", tokenizer: "char");
        var smallId = small!["id"]!.GetValue<string>();
        var tokenized = await Api.EventuallyAsync(() => Api.GetOkAsync(editor, $"/api/datasets/{smallId}"),
            d => d["state"]!.GetValue<string>() != "Ingested", TimeSpan.FromMinutes(1), stack.Logs);
        var tokenizerId = tokenized["tokenizer"]!["id"]!.GetValue<string>();
        var charFile = await editor.GetByteArrayAsync($"/api/tokenizers/{tokenizerId}/file");
        var (_, failing) = await Api.UploadAsync(editor, Encoding.UTF8.GetBytes($"{marker}\n{marker} {marker}\n"),
            "unencodable", tokenizerFile: charFile);
        var failingId = failing!["id"]!.GetValue<string>();
        var failed = await Api.EventuallyAsync(() => Api.GetOkAsync(editor, $"/api/datasets/{failingId}"),
            d => d["state"]!.GetValue<string>() != "Ingested", TimeSpan.FromMinutes(1), stack.Logs);
        Assert.Equal("Failed", failed["state"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest,
            (await Api.PostJsonAsync(editor, $"/api/tokenizers/{tokenizerId}/encode",
            new JsonObject { ["text"] = marker }.ToJsonString())).Status);
        await Api.PostJsonAsync(editor, "/api/generate",
            new JsonObject { ["model"] = "no-such-model", ["prompt"] = marker }.ToJsonString());
        await Api.PostJsonAsync(editor, "/v1/completions",
            new JsonObject { ["model"] = "no-such-model", ["prompt"] = marker }.ToJsonString());
        await Api.PostJsonAsync(editor, "/api/runs", $"{{\"datasetId\":\"{smallId}\",\"name\":\"{marker}!\"}}");
        await Task.Delay(TimeSpan.FromSeconds(1));

        var logs = stack.AllLogs();
        Assert.True(logs.Length > 1000, "the services logged almost nothing: is the log capture working?");
        Assert.Contains(smallId, logs);
        foreach (var (what, secret) in new[]
                 {
                     ("the admin key", stack.AdminKey), ("a created key", key),
                         ("the internal secret", stack.InternalSecret),
                     ("uploaded or prompted text", marker), ("a connection-string password", "Password="),
                     ("a broker password", "guest:guest@"),
                 })
            Assert.False(logs.Contains(secret, StringComparison.Ordinal), $"{what} appears in the logs");
    }

    [Fact]
    public async Task Json_logs_are_one_object_a_line_and_carry_the_trace_and_span_of_the_request()
    {
        // A W3C trace context sent by the caller: the gateway continues the trace, and so does the service behind it.
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/datasets");
        request.Headers.Add("traceparent", $"00-{traceId}-{System.Diagnostics.ActivitySpanId.CreateRandom()}-01");
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent("to be or not to be\n"u8.ToArray()), "file", "corpus.txt");
        form.Add(new StringContent("json-logged"), "name");
        request.Content = form;
        using var response = await Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var entries = await Api.EventuallyAsync(() =>
        {
            var lines = stack.LogsOf(PlatformStack.JsonLoggingService)
                .Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return Task.FromResult<JsonNode>(new JsonArray([.. lines.Select(l => (JsonNode?)JsonValue.Create(l))]));
        }, all => all.AsArray().Any(l => l!.GetValue<string>().Contains(traceId, StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), stack.Logs);
        var parsed = entries.AsArray().Select(l => JsonNode.Parse(l!.GetValue<string>())!.AsObject()).ToList();
        Assert.All(parsed, e => Assert.True(e.ContainsKey("Timestamp") && e.ContainsKey("LogLevel")
            && e.ContainsKey("Category") && e.ContainsKey("Message")));
        var traced = parsed.Where(e => e["Scopes"]?.AsArray().Any(s => s is JsonObject scope
            && scope["TraceId"]?.GetValue<string>() == traceId) == true).ToList();
        Assert.NotEmpty(traced);
        var scope = traced[0]["Scopes"]!.AsArray().OfType<JsonObject>().First(s => s["TraceId"] is not null);
        Assert.Matches("^[0-9a-f]{16}$", scope["SpanId"]!.GetValue<string>());
    }
}
