using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>Bad input answers problem details (RFC 7807) naming the field, and stores nothing.</summary>
[Collection(PlatformCollection.Name)]
public sealed class BadInputTests(PlatformStack stack)
{
    private HttpClient Http => stack.Gateway;
    private const string ValidRun =
        "\"name\":\"m\",\"model\":{\"nLayer\":1,\"nHead\":1,\"nEmbd\":8," +
        "\"blockSize\":8},\"training\":{\"maxSteps\":5," +
        "\"evalInterval\":5,\"evalIters\":1}";

    private static void AssertProblem(HttpStatusCode expected, (HttpStatusCode Status, JsonNode? Body) response,
        params string[] fields)
    {
        Assert.True(response.Status == expected,
            $"expected {(int)expected}, got {(int)response.Status}: {response.Body}");
        Assert.NotNull(response.Body);
        Assert.Equal((int)expected, response.Body!["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(response.Body["title"]?.GetValue<string>()));
        foreach (var field in fields)
            Assert.True(response.Body["errors"]?[field] is not null, $"no error for '{field}' in {response.Body}");
    }

    [Fact]
    public async Task An_auto_train_run_that_training_refuses_is_recorded_failed_naming_the_field()
    {
        // Ingestion only stores and announces: the upload is taken, and Training, which creates runs, refuses the
        // spec as POST /api/runs would, recording the run Failed where the upload said to look.
        var (status, dataset) = await Api.UploadAsync(Http, "ok text\n"u8.ToArray(), "refused-auto",
            autoTrain: "{\"name\":\"refused-auto\",\"model\":{\"nHead\":3,\"nEmbd\":128}}");
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status}: {dataset}");
        var runPath = dataset!["autoTrainRun"]!.GetValue<string>();
        Assert.Equal($"/api/runs/{dataset["autoTrainRunId"]}", runPath);
        var run = await Api.EventuallyAsync(async () => (await Api.GetAsync(Http, runPath)).Body ?? new JsonObject(),
            r => r["state"]?.GetValue<string>() == "Failed", TimeSpan.FromSeconds(60), stack.Logs);
        Assert.Contains("model.nHead", run["failureReason"]!.GetValue<string>());
        Assert.Equal("refused-auto", run["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Uploads_that_are_not_text_are_refused_and_leave_nothing_behind()
    {
        var before = (await Api.GetOkAsync(Http, "/api/datasets"))["items"]!.AsArray().Count;
        // Staging files already there are another test's (a service killed mid-write by ChaosTests leaves its own
        // behind).
        var staging = Path.Combine(stack.ArtifactsRoot, ".staging");
        string[] StagingFiles() => Directory.Exists(staging) ? Directory.GetFiles(staging) : [];
        var stagedBefore = StagingFiles().ToHashSet();
        AssertProblem(HttpStatusCode.BadRequest, await Api.UploadAsync(Http, [], "empty"), "file");
        AssertProblem(HttpStatusCode.BadRequest, await Api.UploadAsync(Http, [0x61, 0xC3, 0x28, 0x62], "latin1"),
            "file");
        AssertProblem(HttpStatusCode.BadRequest, await Api.UploadAsync(Http, "ok text"u8.ToArray(), ""), "name");
        AssertProblem(HttpStatusCode.BadRequest,
            await Api.UploadAsync(Http, "ok text\n"u8.ToArray(), "f", validationFraction: "0.9"), "validationFraction");
        AssertProblem(HttpStatusCode.BadRequest, await Api.UploadAsync(Http, "ok text\n"u8.ToArray(), "f",
            autoTrain: "[\"not\", \"a run\"]"), "autoTrain");
        using var octets = new ByteArrayContent("abc"u8.ToArray());
        octets.Headers.ContentType = new("application/octet-stream");
        using var response = await Http.PostAsync("/api/datasets", octets);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(before, (await Api.GetOkAsync(Http, "/api/datasets"))["items"]!.AsArray().Count);
        // A write running in the background meanwhile (a checkpoint) finishes in moments; a refused upload's file would
        // stay.
        var left = await Api.EventuallyAsync(() =>
            Task.FromResult<JsonNode>(new JsonArray([.. StagingFiles().Where(f => !stagedBefore.Contains(f)).Select(f =>
            JsonValue.Create(f))])),
            files => files.AsArray().Count == 0, TimeSpan.FromSeconds(15), stack.Logs);
        Assert.Empty(left.AsArray());
    }

    [Fact]
    public async Task A_raw_text_body_is_accepted_as_a_corpus()
    {
        using var body = new StringContent("line one\r\nline two\r\n", Encoding.UTF8, "text/plain");
        using var response = await Http.PostAsync("/api/datasets?name=raw&validationFraction=0.5", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.EndsWith((JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>()),
            response.Headers.Location!.ToString());
        var dataset = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(18, dataset["bytes"]!.GetValue<long>());
        Assert.Equal(2, dataset["lines"]!.GetValue<long>());
    }

    [Fact]
    public async Task Unknown_ids_answer_404()
    {
        var id = Guid.NewGuid();
        AssertProblem(HttpStatusCode.NotFound, await Api.GetAsync(Http, $"/api/datasets/{id}"));
        AssertProblem(HttpStatusCode.NotFound, await Api.GetAsync(Http, $"/api/runs/{id}"));
        AssertProblem(HttpStatusCode.NotFound, await Api.GetAsync(Http, $"/api/runs/{id}/metrics"));
        AssertProblem(HttpStatusCode.NotFound, await Api.PostJsonAsync(Http, $"/api/runs/{id}/cancel", "{}"));
        AssertProblem(HttpStatusCode.NotFound, await Api.GetAsync(Http, "/api/models/no-such-model"));
        AssertProblem(HttpStatusCode.NotFound, await Api.GetAsync(Http, "/api/models/no-such-model/versions/1"));
        AssertProblem(HttpStatusCode.NotFound, await Api.GetAsync(Http, $"/api/tokenizers/{id}"));
        AssertProblem(HttpStatusCode.NotFound,
            await Api.PostJsonAsync(Http, "/api/runs", $"{{\"datasetId\":\"{id}\",{ValidRun}}}"));
        AssertProblem(HttpStatusCode.NotFound,
            await Api.PostJsonAsync(Http, "/api/generate", "{\"model\":\"no-such-model\",\"prompt\":\"a\"}"));
    }

    [Fact]
    public async Task Out_of_range_hyper_parameters_are_named()
    {
        var id = Guid.NewGuid();
        AssertProblem(HttpStatusCode.BadRequest, await Api.PostJsonAsync(Http, "/api/runs",
                $"{{\"datasetId\":\"{id}\",\"name\":\"m\",\"model\":{{\"nHead\":3," +
                $"\"nEmbd\":128}},\"training\":{{\"learningRate\":0}}}}"),
            "model.nHead", "training.learningRate");
        AssertProblem(HttpStatusCode.BadRequest, await Api.PostJsonAsync(Http, "/api/runs",
            $"{{\"datasetId\":\"{id}\",\"name\":\"m\",\"model\":{{\"nLayer\":\"four\"}}}}"), "model.nLayer");
        AssertProblem(HttpStatusCode.BadRequest, await Api.PostJsonAsync(Http, "/api/runs", $"{{{ValidRun}}}"),
            "datasetId");
        AssertProblem(HttpStatusCode.BadRequest, await Api.PostJsonAsync(Http, "/api/runs", "{not json"), "body");
    }

    [Fact]
    public async Task Generation_limits_are_named()
    {
        AssertProblem(HttpStatusCode.BadRequest, await Api.PostJsonAsync(Http, "/api/generate",
            "{\"model\":\"m\",\"prompt\":\"\",\"maxTokens\":0,\"temperature\":-1,\"topK\":-2}"), "prompt", "maxTokens",
            "temperature", "topK");
        AssertProblem(HttpStatusCode.BadRequest, await Api.PostJsonAsync(Http, "/api/generate",
            "{\"model\":\"m\",\"prompt\":\"a\",\"seed\":1.5}"), "seed");
        AssertProblem(HttpStatusCode.BadRequest, await Api.PostJsonAsync(Http, "/api/generate",
            "{\"model\":\"bad model name!\",\"prompt\":\"a\"}"), "model");
    }

    [Fact]
    public async Task A_dataset_that_cannot_be_tokenized_fails_visibly_and_refuses_runs()
    {
        // "ab\n" with a 10% validation split leaves one validation token: too few to train or evaluate on.
        var (_, dataset) = await Api.UploadAsync(Http, "ab\n"u8.ToArray(), "too-small");
        var id = dataset!["id"]!.GetValue<string>();
        var failed = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{id}"),
            d => d["state"]!.GetValue<string>() != "Ingested", TimeSpan.FromSeconds(30), stack.Logs);
        Assert.Equal("Failed", failed["state"]!.GetValue<string>());
        Assert.Contains("at least 2", failed["failureReason"]!.GetValue<string>());

        // The training service learns of the failure by its own event; once it has, runs are refused with 409.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        (HttpStatusCode Status, JsonNode? Body) response;
        do
        {
            response = await Api.PostJsonAsync(Http, "/api/runs", $"{{\"datasetId\":\"{id}\",{ValidRun}}}");
            if (response.Status == HttpStatusCode.Conflict)
                break;
            await Task.Delay(250);
        } while (DateTime.UtcNow < deadline);
        AssertProblem(HttpStatusCode.Conflict, response);
    }
}
