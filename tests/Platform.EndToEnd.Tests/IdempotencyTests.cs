using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>Idempotency-Key on POST /api/runs and POST /api/datasets, through the gateway.</summary>
[Collection(PlatformCollection.Name)]
public sealed class IdempotencyTests(PlatformStack stack)
{
    private HttpClient Http => stack.Gateway;

    private async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseHeaders Headers)> PostAsync(HttpClient http,
        string path, HttpContent content, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await Api.ReadAsync(response), response.Headers);
    }

    private static MultipartFormDataContent Upload(string text, string name)
    {
        // A new MultipartFormDataContent picks a new boundary, as a client retrying a request would.
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(text))
        {
            Headers = { ContentType = new MediaTypeHeaderValue("text/plain") }
        }, "file", "corpus.txt");
        form.Add(new StringContent(name), "name");
        form.Add(new StringContent("char"), "tokenizer");
        return form;
    }

    [Fact]
    public async Task A_retried_upload_or_run_gets_the_first_response_and_creates_nothing_new()
    {
        var corpus = Api.DemoCorpus[..4_000];
        var key = Guid.NewGuid().ToString();
        var first = await PostAsync(Http, "/api/datasets", Upload(corpus, "idempotent-data"), key);
        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        var retry = await PostAsync(Http, "/api/datasets", Upload(corpus, "idempotent-data"), key);
        Assert.Equal(HttpStatusCode.Accepted, retry.Status);
        Assert.Equal(first.Body!.ToJsonString(), retry.Body!.ToJsonString());
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Single((await Api.GetOkAsync(Http, "/api/datasets?limit=1000"))["items"]!.AsArray(), d =>
            d!["name"]!.GetValue<string>() == "idempotent-data");
        // The same key for another upload is refused, and nothing is stored.
        var reused = await PostAsync(Http, "/api/datasets", Upload(corpus[..3_000], "idempotent-data"), key);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.Status);
        Assert.Single((await Api.GetOkAsync(Http, "/api/datasets?limit=1000"))["items"]!.AsArray(), d =>
            d!["name"]!.GetValue<string>() == "idempotent-data");

        var datasetId = first.Body["id"]!.GetValue<string>();
        var run = $"{{\"datasetId\":\"{datasetId}\",\"name\":\"idempotent-run\",\"model\":{{\"nLayer\":1," +
            $"\"nHead\":1,\"nEmbd\":8,\"blockSize\":8}},\"training\":{{\"maxSteps\":2," +
            $"\"evalInterval\":2,\"evalIters\":1}}}}";
        var runKey = Guid.NewGuid().ToString();
        // Sent twice at once: one is forwarded; the other is its replay or, while the first is in flight, a 409.
        var created = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
            PostAsync(Http, "/api/runs", new StringContent(run, Encoding.UTF8, "application/json"), runKey)));
        Assert.All(created, c => Assert.Contains(c.Status, new[] { HttpStatusCode.Accepted, HttpStatusCode.Conflict }));
        Assert.Contains(created, c => c.Status == HttpStatusCode.Accepted);
        var again = await PostAsync(Http, "/api/runs", new StringContent(run, Encoding.UTF8, "application/json"),
            runKey);
        Assert.Equal(HttpStatusCode.Accepted, again.Status);
        Assert.All(created.Where(c => c.Status == HttpStatusCode.Accepted), c =>
            Assert.Equal(again.Body!["id"]!.GetValue<string>(), c.Body!["id"]!.GetValue<string>()));
        Assert.Single((await Api.GetOkAsync(Http, "/api/runs?name=idempotent-run"))["items"]!.AsArray());

        // Keys are per API key: another caller's identical key is its own first request.
        var (editorId, editorKey) = await Api.CreateKeyAsync(Http, "idempotency-editor", "editor");
        using var editor = PlatformStack.ClientWithKey(editorKey);
        // The model name and the data are the admin's: shared, so the editor's run may use them too (once Training
        // has heard of the sharing, which the editor seeing the admin's run shows).
        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(Http, HttpMethod.Put, "/api/models/idempotent-run/sharing",
            $"{{\"editors\":[\"{editorId}\"]}}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(Http, HttpMethod.Put, $"/api/datasets/{datasetId}/sharing",
            $"{{\"everyone\":false,\"readers\":[\"{editorId}\"]}}")).Status);
        await Api.EventuallyAnswersAsync(editor, $"/api/runs/{again.Body!["id"]}", HttpStatusCode.OK, stack.Logs);
        var theirs = await PostAsync(editor, "/api/runs", new StringContent(run, Encoding.UTF8, "application/json"),
            runKey);
        Assert.Equal(HttpStatusCode.Accepted, theirs.Status);
        Assert.NotEqual(again.Body!["id"]!.GetValue<string>(), theirs.Body!["id"]!.GetValue<string>());
        Assert.Equal(2, (await Api.GetOkAsync(Http, "/api/runs?name=idempotent-run"))["items"]!.AsArray().Count);

        // A malformed key is named.
        var (badKey, badKeyBody, _) = await PostAsync(Http, "/api/runs",
            new StringContent(run, Encoding.UTF8, "application/json"), "has spaces in it");
        Assert.Equal(HttpStatusCode.BadRequest, badKey);
        Assert.Equal(["Idempotency-Key"], badKeyBody!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task A_first_request_left_in_flight_by_a_gateway_that_died_does_not_block_its_retry()
    {
        var datasetId = await Api.TokenizedDatasetAsync(Http, Api.DemoCorpus[..5_000], "abandoned-data",
            TimeSpan.FromMinutes(2), stack.Logs);
        var me = await Api.GetOkAsync(Http, "/api/keys/me");
        var key = "abandoned-" + Guid.NewGuid();
        // What a gateway killed mid-request leaves: the key taken, no answer, an hour ago.
        await using (var connection = new Npgsql.NpgsqlConnection(stack.PostgresConnection))
        {
            await connection.OpenAsync();
            await using var insert = new Npgsql.NpgsqlCommand(
                "INSERT INTO gateway.idempotency_records " +
                "(\"KeyId\", \"IdempotencyKey\", \"Method\", \"Path\", \"CreatedAt\") " +
                "VALUES (@key, @idempotency, 'POST', '/api/runs', now() - interval '1 hour')", connection);
            insert.Parameters.AddWithValue("key", Guid.Parse(me["id"]!.GetValue<string>()));
            insert.Parameters.AddWithValue("idempotency", key);
            await insert.ExecuteNonQueryAsync();
        }
        var run = $"{{\"datasetId\":\"{datasetId}\",\"name\":\"abandoned-run\"," +
                  "\"model\":{\"nLayer\":1,\"nHead\":1,\"nEmbd\":8,\"blockSize\":8}," +
                  "\"training\":{\"maxSteps\":2,\"evalInterval\":2,\"evalIters\":1}}";
        StringContent Body() => new(run, Encoding.UTF8, "application/json");
        var retried = await PostAsync(Http, "/api/runs", Body(), key);
        Assert.True(retried.Status == HttpStatusCode.Accepted, $"{(int)retried.Status}: {retried.Body}");
        // And from then on the key is the retry's: a second retry replays it.
        var again = await PostAsync(Http, "/api/runs", Body(), key);
        Assert.Equal(retried.Body!["id"]!.GetValue<string>(), again.Body!["id"]!.GetValue<string>());
    }
}
