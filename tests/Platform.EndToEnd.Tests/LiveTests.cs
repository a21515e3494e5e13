using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>A run's live progress as Server-Sent Events, through the gateway.</summary>
[Collection(PlatformCollection.Name)]
public sealed class LiveTests(PlatformStack stack)
{
    private HttpClient Http => stack.Gateway;

    /// <summary>Reads an SSE stream to its end: (event, data) pairs.</summary>
    private static async Task<List<(string Event, JsonNode Data)>> ReadEventsAsync(HttpClient http, string path,
        TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token), Encoding.UTF8);
        var events = new List<(string, JsonNode)>();
        string? name = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancel.Token) is { } line)
        {
            if (line.StartsWith("event:"))
                name = line[6..].Trim();
            else if (line.StartsWith("data:"))
                data.Append(line[5..].Trim());
            else if (line.Length == 0 && data.Length > 0)
            {
                events.Add((name ?? "message", JsonNode.Parse(data.ToString())!));
                (name, data) = (null, new StringBuilder());
            }
        }
        return events;
    }

    [Fact]
    public async Task A_run_streams_its_progress_with_every_loss_point_and_ends_with_its_final_state()
    {
        var (uploaded, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..20_000]),
            "live-data", tokenizer: "char");
        Assert.Equal(HttpStatusCode.Accepted, uploaded);
        var datasetId = dataset!["id"]!.GetValue<string>();
        var (status, run) = await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",\"name\":\"live-run\",\"model\":{{\"nLayer\":1," +
            $"\"nHead\":2,\"nEmbd\":32," +
            $"\"blockSize\":32}},\"training\":{{\"maxSteps\":600,\"batchSize\":8,\"evalInterval\":200," +
            $"\"evalIters\":2}}}}");
        Assert.Equal(HttpStatusCode.Accepted, status);
        var runId = run!["id"]!.GetValue<string>();

        var events = await ReadEventsAsync(Http, $"/api/runs/{runId}/events", TimeSpan.FromMinutes(3));
        Assert.Equal("run", events[0].Event);
        Assert.Equal("run", events[^1].Event);
        Assert.Equal("Completed", events[^1].Data["state"]!.GetValue<string>());
        var progress = events.Where(e => e.Event == "progress").Select(e => e.Data).ToList();
        Assert.True(progress.Count >= 2,
            $"{progress.Count} progress events: " +
            $"{string.Join("\n", events.Select(e => e.Event + " " + e.Data.ToJsonString()))}");
        var steps = progress.Select(p => p["step"]!.GetValue<int>()).ToList();
        Assert.Equal(steps.Order(), steps);

        // The pushed loss points are the stored series' points (the stream may start after the first few).
        var pushed = progress.SelectMany(p => p["points"]!.AsArray()).Where(p =>
            p!["key"]!.GetValue<string>() == "loss")
            .ToDictionary(p => p!["step"]!.GetValue<int>(), p => p!["value"]!.GetValue<double>());
        var stored = (await Api.GetOkAsync(Http,
            $"/api/runs/{runId}/metrics?keys=loss&maxPoints=100000"))["series"]!.AsArray().Single()!["points"]!.AsArray(
            )
            .ToDictionary(p => p!["step"]!.GetValue<int>(), p => p!["value"]!.GetValue<double>());
        Assert.True(pushed.Count >= 10, $"{pushed.Count} loss points pushed");
        Assert.All(pushed, p => Assert.Equal(stored[p.Key], p.Value, 9));
        var lastPushed = pushed.Keys.Max();
        Assert.Equal(stored.Keys.Where(s => s >= pushed.Keys.Min() && s <= lastPushed).Order(), pushed.Keys.Order());

        // An ended run answers with its one final event; an unknown run is a 404.
        var ended = await ReadEventsAsync(Http, $"/api/runs/{runId}/events", TimeSpan.FromSeconds(30));
        Assert.Equal(["run"], ended.Select(e => e.Event));
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(Http, $"/api/runs/{Guid.NewGuid()}/events")).Status);
    }
}
