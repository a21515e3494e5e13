using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// The second model family through the whole pipeline: a paired dataset (dates "15 April 2023" rewritten as
/// "2023-04-15", a deterministic task) is uploaded through the gateway, an encoder-decoder trains on it, is evaluated
/// (exact match, BLEU, chrF, recall), registered, and served with beam search by both generation APIs.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class EncoderDecoderTests(PlatformStack stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(6);
    private static readonly string[] Months = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames[..12];

    private HttpClient Http => stack.Gateway;

    private static (string Source, string Target) Date(DateOnly date) =>
        ($"{date.Day} {Months[date.Month - 1]} {date.Year}", date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));

    /// <summary>count dates between 1950 and 2049 as TSV lines, the same for the same seed.</summary>
    private static byte[] DatePairs(int count, int seed)
    {
        var random = new Random(seed);
        var lines = Enumerable.Range(0, count).Select(_ =>
            Date(new DateOnly(1950, 1, 1).AddDays(random.Next(0, 36_500))))
            .Select(p => $"{p.Source}\t{p.Target}");
        return Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");
    }

    [Fact]
    public async Task A_paired_dataset_trains_an_encoder_decoder_evaluated_registered_and_served_with_beam_search()
    {
        const string autoTrain = """
            {"name":"e2e-dates",
             "model":{"architecture":"encoder-decoder","nEncoderLayer":2,"nDecoderLayer":2,"nHead":4,"nEmbd":128,
                      "maxSourceLength":24,"maxTargetLength":16},
             "training":{"maxSteps":900,"batchSize":32,"learningRate":0.002,"warmupSteps":50,"evalInterval":200,
                         "evalIters":5,"seed":1,"labelSmoothing":0.05}}
            """;
        var (status, dataset) = await Api.UploadAsync(Http, DatePairs(4000, 11), "dates", autoTrain, tokenizer: "char",
            format: "pairs");
        Assert.True(status == HttpStatusCode.Accepted, $"upload answered {(int)status}: {dataset}");
        Assert.Equal("pairs", dataset!["format"]!.GetValue<string>());
        Assert.Equal(4000, dataset["pairs"]!["pairs"]!.GetValue<long>());
        Assert.Equal(400, dataset["pairs"]!["validationPairs"]!.GetValue<long>());
        Assert.Equal(10, dataset["pairs"]!["maxTargetCharacters"]!.GetValue<int>());
        var runId = dataset["autoTrainRunId"]!.GetValue<string>();
        var datasetId = dataset["id"]!.GetValue<string>();
        var tokenized = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{datasetId}"),
            d => d["state"]!.GetValue<string>() is "Tokenized" or "Failed", Deadline, stack.Logs);
        Assert.True(tokenized["state"]!.GetValue<string>() == "Tokenized", $"{tokenized}");

        var run = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{runId}"),
            r => r["state"]!.GetValue<string>() is "Completed" or "Failed" or "Cancelled", Deadline, stack.Logs);
        Assert.True(run["state"]!.GetValue<string>() == "Completed", $"run ended {run}\n{stack.Logs()}");
        var version = run["modelVersion"]!.GetValue<int>();

        // Registered with its architecture and its evaluation on the 400 held-out pairs, decoded with beam 4.
        var registered = await Api.GetOkAsync(Http, $"/api/models/e2e-dates/versions/{version}");
        Assert.Equal("encoder-decoder", registered["architecture"]!.GetValue<string>());
        var evaluation = registered["evaluation"]!;
        Assert.True(evaluation["exactMatch"]!.GetValue<double>() >= 0.9, $"exact match {evaluation}");
        Assert.Equal(400, evaluation["pairsEvaluated"]!.GetValue<long>());
        Assert.InRange(evaluation["bleu"]!.GetValue<double>(), 50, 100);
        Assert.Equal("13a", evaluation["bleuTokenize"]!.GetValue<string>());
        Assert.InRange(evaluation["chrF"]!.GetValue<double>(), 80, 100);
        Assert.InRange(evaluation["macroRecall"]!.GetValue<double>(), 0.5, 1);
        Assert.InRange(evaluation["macroF1"]!.GetValue<double>(), 0.5, 1);
        Assert.InRange(evaluation["expectedCalibrationError"]!.GetValue<double>(), 0, 0.5);
        Assert.Contains(" → ", registered["sample"]!.GetValue<string>());

        // Served by both APIs once Generation has heard of the version, with beam search (dates within the task's
        // century).
        var (unseen, expected) = Date(new DateOnly(2031, 7, 4));
        var generated = await Api.EventuallyAsync(async () =>
        {
            var (code, body) = await Api.PostJsonAsync(Http, "/api/generate",
                $$"""{"model":"e2e-dates/versions/{{version}}","input":"{{unseen}}","numBeams":4,"maxTokens":15}""");
            return code == HttpStatusCode.OK ? body!
                : new JsonObject { ["pending"] = (int)code, ["body"] = body?.DeepClone() };
        }, g => g["text"] is not null, TimeSpan.FromSeconds(30), stack.Logs);
        Assert.Equal(expected, generated["text"]!.GetValue<string>());
        Assert.Equal("stop", generated["finishReason"]!.GetValue<string>());

        var (again, expectedAgain) = Date(new DateOnly(1987, 11, 23));
        var (completionStatus, completion) = await Api.PostJsonAsync(Http, "/v1/completions",
            $$"""{"model":"e2e-dates/versions/{{version}}","prompt":"{{again}}","max_tokens":15,"num_beams":4}""");
        Assert.True(completionStatus == HttpStatusCode.OK, $"{completion}");
        Assert.Equal(expectedAgain, completion!["choices"]![0]!["text"]!.GetValue<string>());

        var models = await Api.GetOkAsync(Http, "/v1/models");
        Assert.Contains(models["data"]!.AsArray(), m => m!["id"]!.GetValue<string>() == "e2e-dates"
            && m["architecture"]!.GetValue<string>() == "encoder-decoder");

        // The version evaluated on another dataset of the same task (its validation split encoded with the version's
        // tokenizer).
        var (otherStatus, other) = await Api.UploadAsync(Http, DatePairs(600, 99), "dates-other", tokenizer: "char",
            format: "pairs");
        Assert.Equal(HttpStatusCode.Accepted, otherStatus);
        var otherId = other!["id"]!.GetValue<string>();
        var requested = await Api.EventuallyAsync(async () =>
        {
            var (code, body) = await Api.PostJsonAsync(Http, "/api/evaluations",
                $$"""{"model":"e2e-dates/versions/{{version}}","datasetId":"{{otherId}}"}""");
            return code == HttpStatusCode.Accepted ? body!
                : new JsonObject { ["pending"] = (int)code, ["body"] = body?.ToJsonString() };
        }, e => e["id"] is not null, TimeSpan.FromSeconds(30), stack.Logs);
        var evaluationId = requested["id"]!.GetValue<string>();
        var scored = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/evaluations/{evaluationId}"),
            e => e["state"]!.ToString() is "Completed" or "Failed", Deadline, stack.Logs);
        Assert.True(scored["state"]!.ToString() == "Completed", $"{scored}");
        Assert.Equal(otherId, scored["datasetId"]!.GetValue<string>());
        Assert.Equal(60, scored["figures"]!["pairsEvaluated"]!.GetValue<long>());
        Assert.True(scored["figures"]!["exactMatch"]!.GetValue<double>() >= 0.9, $"{scored}");

        // A text dataset does not suit an encoder-decoder: refused, naming the field.
        var (textStatus, text) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..5_000]),
            "plain-text", tokenizer: "char");
        Assert.Equal(HttpStatusCode.Accepted, textStatus);
        var mismatch = await Api.EventuallyAsync(async () =>
        {
            var (code, body) = await Api.PostJsonAsync(Http, "/api/evaluations",
                $$"""{"model":"e2e-dates","datasetId":"{{text!["id"]}}"}""");
            return new JsonObject { ["status"] = (int)code, ["body"] = body?.DeepClone() };
        }, r => r["status"]!.GetValue<int>() != 404, TimeSpan.FromSeconds(30), stack.Logs);
        Assert.Equal(400, mismatch["status"]!.GetValue<int>());
        Assert.NotNull(mismatch["body"]!["errors"]!["datasetId"]);

        // Beam settings are refused for a GPT-shaped request to this model's dataset, and a GPT run on pairs is refused
        // too.
        var (refused, problem) = await Api.PostJsonAsync(Http, "/api/runs",
            $$"""{"datasetId":"{{datasetId}}","name":"wrong-family","model":{"architecture":"gpt"} }""");
        Assert.Equal(HttpStatusCode.BadRequest, refused);
        Assert.NotNull(problem!["errors"]!["model.architecture"]);
    }

    [Fact]
    public async Task A_malformed_pair_is_refused_naming_its_line_and_the_reason_and_nothing_is_stored()
    {
        var jsonLines =
            "{\"source\":\"a\",\"target\":\"b\"}\n\n{\"source\":\"c\"}\n{\"source\":\"d\",\"target\":7}\nnot json\n";
        var (status, problem) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(jsonLines), "broken-pairs",
            format: "pairs");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var message = problem!["errors"]!["file"]![0]!.GetValue<string>();
        Assert.Contains("line 3: \"target\" is missing", message);
        Assert.Contains("line 4: \"target\" must be a string", message);
        Assert.Contains("line 5: not valid JSON", message);

        var (tsvStatus, tsvProblem) = await Api.UploadAsync(Http, "one\tuno\ntwo\tdos\textra\n"u8.ToArray(),
            "broken-tsv", format: "pairs");
        Assert.Equal(HttpStatusCode.BadRequest, tsvStatus);
        Assert.Contains("line 2: expected 2 tab-separated columns (source, target), found 3",
            tsvProblem!["errors"]!["file"]![0]!.GetValue<string>());

        var (formatStatus, formatProblem) = await Api.UploadAsync(Http, "a\tb\n"u8.ToArray(), "bad-format",
            format: "parallel");
        Assert.Equal(HttpStatusCode.BadRequest, formatStatus);
        Assert.NotNull(formatProblem!["errors"]!["format"]);

        // A GPT does not train on pairs: Training refuses the auto-train run, as it would the same POST /api/runs.
        var (mismatch, mismatched) = await Api.UploadAsync(Http, "a\tb\nc\td\n"u8.ToArray(), "mismatch",
            """{"name":"m","model":{"architecture":"gpt"}}""", format: "pairs");
        Assert.Equal(HttpStatusCode.Accepted, mismatch);
        var refused = await Api.EventuallyAsync(
            async () => (await Api.GetAsync(Http, mismatched!["autoTrainRun"]!.GetValue<string>())).Body
                        ?? new JsonObject(),
            r => r["state"]?.GetValue<string>() == "Failed", TimeSpan.FromSeconds(60), stack.Logs);
        Assert.Contains("model.architecture", refused["failureReason"]!.GetValue<string>());

        var datasets = await Api.GetOkAsync(Http, "/api/datasets?limit=1000");
        Assert.DoesNotContain(datasets["items"]!.AsArray(), d =>
            d!["name"]!.GetValue<string>() is "broken-pairs" or "broken-tsv" or "bad-format");
    }
}
