using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;

namespace Platform.EndToEnd.Tests;

/// <summary>Failures end visible, runs survive dead workers and outlive the broker's consumer timeout, and the outbox
/// never blocks.</summary>
[Collection(PlatformCollection.Name)]
public sealed class ReliabilityTests(PlatformStack stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);
    private const string TinyModel =
        "\"model\":{\"nLayer\":1,\"nHead\":2,\"nEmbd\":32,\"blockSize\":32,\"dropout\":0.0}";
    private static string Training(int steps, int evalInterval = 50) =>
        $"\"training\":{{\"maxSteps\":{steps},\"batchSize\":8,\"learningRate\":0.003," +
        $"\"warmupSteps\":5,\"evalInterval\":{evalInterval},\"evalIters\":2,\"seed\":3}}";

    private HttpClient Http => stack.Gateway;

    private async Task<string> TokenizedDatasetAsync(string name, int characters = 30_000)
    {
        var (status, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..characters]), name,
            tokenizer: "char");
        Assert.True(status == HttpStatusCode.Accepted, $"upload answered {(int)status}: {dataset}");
        var id = dataset!["id"]!.GetValue<string>();
        await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{id}"), d =>
            d["state"]!.GetValue<string>() == "Tokenized", Deadline, stack.Logs);
        return id;
    }

    private Task<string> StartRunAsync(string datasetId, string name, int steps, int evalInterval = 50) =>
        Api.StartRunAsync(Http, datasetId, name, $"{TinyModel},{Training(steps, evalInterval)}", stack.Logs);

    /// <summary>The run, or a placeholder while it does not exist yet (an auto-train run is created by a
    /// consumer).</summary>
    private async Task<JsonNode> RunOrPendingAsync(string runId)
    {
        var (status, run) = await Api.GetAsync(Http, $"/api/runs/{runId}");
        return status == HttpStatusCode.OK ? run! : new JsonObject { ["state"] = $"HTTP {(int)status}" };
    }

    private Task<JsonNode> FinishedAsync(string runId, TimeSpan? timeout = null) =>
        Api.EventuallyAsync(() => RunOrPendingAsync(runId),
            r => r["state"]!.GetValue<string>() is "Completed" or "Failed" or "Cancelled", timeout ?? Deadline,
            stack.Logs);

    [Theory]
    [InlineData(FaultNames.Io, "IOException")]
    [InlineData(FaultNames.Database, "NpgsqlException")]
    [InlineData(FaultNames.Unknown, "InjectedFaultException")]
    public async Task Any_exception_while_tokenizing_ends_the_dataset_and_its_waiting_run_failed_with_the_reason(
        string name, string exception)
    {
        var autoTrain = $"{{\"name\":\"{name}-run\",{TinyModel},{Training(10)}}}";
        var (status, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..5_000]),
            $"{name}-data", autoTrain, tokenizer: "char");
        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = dataset!["id"]!.GetValue<string>();
        var runId = dataset["autoTrainRunId"]!.GetValue<string>();

        // Retried by the policy (0.5 s, 2 s, 5 s), then MassTransit's Fault<DatasetIngested> ends it Failed.
        var failed = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{id}"),
            d => d["state"]!.GetValue<string>() != "Ingested", Deadline, stack.Logs);
        Assert.Equal("Failed", failed["state"]!.GetValue<string>());
        var reason = failed["failureReason"]!.GetValue<string>();
        Assert.Contains(exception, reason);
        Assert.Contains("after its retries", reason);
        Assert.Contains("upload the dataset again", reason);

        var run = await FinishedAsync(runId);
        Assert.Equal("Failed", run["state"]!.GetValue<string>());
        Assert.Contains(exception, run["failureReason"]!.GetValue<string>());
        Assert.Empty((await Api.GetOkAsync(Http, $"/api/tokenizers?datasetId={id}"))["items"]!.AsArray());
    }

    [Fact]
    public async Task An_exception_while_evaluating_ends_the_run_failed_with_the_reason_and_registers_nothing()
    {
        var datasetId = await TokenizedDatasetAsync("eval-fault-data");
        var runId = await StartRunAsync(datasetId, $"{FaultNames.Evaluation}-run", 20, 10);

        var run = await FinishedAsync(runId);
        Assert.Equal("Failed", run["state"]!.GetValue<string>());
        Assert.Contains("InjectedFaultException", run["failureReason"]!.GetValue<string>());
        Assert.Contains("Evaluating the checkpoint failed after its retries", run["failureReason"]!.GetValue<string>());
        var evaluations = (await Api.GetOkAsync(Http, $"/api/evaluations?runId={runId}"))["items"]!.AsArray();
        Assert.Equal("Failed", Assert.Single(evaluations)!["state"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound,
            (await Api.GetAsync(Http, $"/api/models/{FaultNames.Evaluation}-run")).Status);
    }

    [Fact]
    public async Task A_registry_that_cannot_record_a_trained_run_ends_it_failed_with_the_reason_registering_nothing()
    {
        // The registry's TrainingCompleted consumer (in the Training process) meets a database error on every attempt.
        var datasetId = await TokenizedDatasetAsync("register-fault-data");
        var runId = await StartRunAsync(datasetId, $"{FaultNames.Registration}-run", 20, 10);

        var run = await FinishedAsync(runId);
        Assert.Equal("Failed", run["state"]!.GetValue<string>());
        Assert.Contains("Recording the trained model in the registry failed after its retries (NpgsqlException",
            run["failureReason"]!.GetValue<string>());
        // Evaluation itself succeeded: only the registry's half is missing, so no version exists.
        var evaluations = (await Api.GetOkAsync(Http, $"/api/evaluations?runId={runId}"))["items"]!.AsArray();
        Assert.Equal("Completed", Assert.Single(evaluations)!["state"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound,
            (await Api.GetAsync(Http, $"/api/models/{FaultNames.Registration}-run")).Status);
    }

    [Fact]
    public async Task A_run_whose_process_keeps_dying_ends_failed_at_the_crash_limit_and_the_worker_trains_the_next()
    {
        var datasetId = await TokenizedDatasetAsync("crash-loop-data");
        var runId = await StartRunAsync(datasetId, $"{FaultNames.CrashLoop}-run", 50);

        // The injected fault kills the training process at the run's first step; a supervisor (here, the test) restarts
        // it.
        var deaths = 0;
        var clock = Stopwatch.StartNew();
        JsonNode run;
        while (true)
        {
            if (stack.HasExited("Training"))
            {
                deaths++;
                await stack.RestartExitedAsync("Training");
            }
            run = await RunOrPendingAsync(runId);
            if (run["state"]!.GetValue<string>() == "Failed" || clock.Elapsed > Deadline)
                break;
            await Task.Delay(250);
        }
        Assert.True(run["state"]!.GetValue<string>() == "Failed", $"after {deaths} deaths: {run}\n{stack.Logs()}");
        Assert.Equal(3, deaths);
        var reason = run["failureReason"]!.GetValue<string>();
        Assert.Contains("crashed 3 times at step 0", reason);
        Assert.Contains("stopped renewing its lease", reason);

        // The worker is not blocked: the next run trains to the end.
        var next = await FinishedAsync(await StartRunAsync(datasetId, "next-run", 20, 10));
        Assert.Equal("Completed", next["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Two_training_workers_train_each_run_exactly_once()
    {
        var datasetId = await TokenizedDatasetAsync("two-workers-data");
        stack.StartInstance("Training", "Training-2", 18086);
        try
        {
            await Api.EventuallyAsync(() =>
                Task.FromResult<JsonNode>(JsonValue.Create(stack.LogsOf("Training-2").Contains("Training worker " +
                "Training-2 ready"))),
                ready => ready.GetValue<bool>(), TimeSpan.FromSeconds(60), stack.Logs);

            // A run that trains until it is cancelled keeps one worker busy, so the other must take the next runs:
            // which worker takes what is then decided by the platform, not by which one happened to poll first.
            var busy = await StartRunAsync(datasetId, "two-workers-busy", Platform.Contracts.RunSpecValidator.MaxSteps,
                1_000);
            await Api.EventuallyAsync(() => RunOrPendingAsync(busy), r => r["state"]!.GetValue<string>() == "Training",
                Deadline, stack.Logs);
            var busyOnSecond = stack.LogsOf("Training-2").Contains($"run {busy} claimed by Training-2");
            var other = busyOnSecond ? "the first worker" : "Training-2";

            var runs = new List<string>();
            for (var i = 0; i < 2; i++)
                runs.Add(await StartRunAsync(datasetId, $"two-workers-{i}", 120, 40));
            foreach (var runId in runs)
            {
                var ended = await FinishedAsync(runId);
                Assert.Equal("Completed", ended["state"]!.GetValue<string>());
                Assert.Equal(120, ended["step"]!.GetValue<int>());
                var claims = Api.CountOf(stack.LogsOf("Training"), $"run {runId} claimed by");
                Assert.True(claims == 1, $"run {runId} was claimed {claims} times\n{stack.LogsOf("Training")}");
                // Both workers took work: the second one is a real competing worker, not a spare.
                Assert.True(stack.LogsOf("Training-2").Contains($"run {runId} claimed by Training-2") != busyOnSecond,
                    $"run {runId} was not trained by {other}, the worker that was free\n{stack.LogsOf("Training")}");
                Assert.Empty(Series(await Api.GetOkAsync(Http, $"/api/runs/{runId}/metrics?keys=resumed_at_step"),
                    "resumed_at_step"));
                Assert.Equal(1,
                    (await Api.GetOkAsync(Http,
                    $"/api/models/{ended["name"]!.GetValue<string>()}"))["versions"]!.AsArray().Count);
            }

            var (cancel, _) = await Api.PostJsonAsync(Http, $"/api/runs/{busy}/cancel", "{}");
            Assert.Equal(HttpStatusCode.Accepted, cancel);
            var cancelled = await FinishedAsync(busy);
            Assert.Equal("Cancelled", cancelled["state"]!.GetValue<string>());
            Assert.Equal(1, Api.CountOf(stack.LogsOf("Training"), $"run {busy} claimed by"));
        }
        finally
        {
            await stack.StopAsync("Training-2");
        }
    }

    [Fact]
    public async Task When_the_worker_training_a_run_dies_another_live_worker_takes_it_over_from_its_checkpoint()
    {
        var datasetId = await TokenizedDatasetAsync("takeover-data");
        stack.StartInstance("Training", "Training-2", 18086);
        await using var db = new NpgsqlConnection(stack.PostgresConnection);
        await db.OpenAsync();
        try
        {
            await Api.EventuallyAsync(() =>
                Task.FromResult<JsonNode>(JsonValue.Create(stack.LogsOf("Training-2").Contains("Training worker " +
                "Training-2 ready"))),
                ready => ready.GetValue<bool>(), TimeSpan.FromSeconds(60), stack.Logs);
            var runId = await StartRunAsync(datasetId, "takeover", 3000, 200);

            // Watched in the database: with the main Training service dead, the runs API (which it serves) is away too.
            JsonNode Row() => new JsonObject
            {
                ["state"] = (string)Scalar(db, $"SELECT \"State\" FROM training.runs WHERE \"Id\" = '{runId}'")!,
                ["owner"] = (string?)Scalar(db, $"SELECT \"LeaseOwner\" FROM training.runs WHERE \"Id\" = '{runId}'"),
                ["crashes"] = (int)Scalar(db, $"SELECT \"Crashes\" FROM training.runs WHERE \"Id\" = '{runId}'")!,
                ["step"] = (int)Scalar(db, $"SELECT \"Step\" FROM training.runs WHERE \"Id\" = '{runId}'")!,
                ["checkpoint"] = (int?)Scalar(db,
                $"SELECT \"LatestCheckpointStep\" FROM training.runs WHERE \"Id\" = '{runId}'"),
            };
            var live = await Api.EventuallyAsync(() => Task.FromResult(Row()),
                r => r["checkpoint"]?.GetValue<int>() >= 200 || r["state"]!.GetValue<string>() != "Training"
                && r["state"]!.GetValue<string>() != "Queued",
                Deadline, stack.Logs);
            Assert.Equal("Training", live["state"]!.GetValue<string>());
            var owner = live["owner"]!.GetValue<string>();

            // Kill whichever worker holds it and bring nothing back: only the other, live worker can continue the run.
            var dead = owner == "Training-2" ? "Training-2" : "Training";
            var survivor = dead == "Training" ? "Training-2" : "Training";
            var killedAt = DateTime.UtcNow;
            await stack.KillAsync(dead);
            var resumed = await Api.EventuallyAsync(() => Task.FromResult(Row()),
                r => r["crashes"]!.GetValue<int>() == 1 || r["state"]!.GetValue<string>() is "Completed" or "Failed",
                Deadline, stack.Logs);
            var takeover = DateTime.UtcNow - killedAt;
            Assert.Equal(1, resumed["crashes"]!.GetValue<int>());
            // Bound: the lease (6 s here) plus a poll (1 s), with room for a loaded machine.
            Assert.True(takeover < TimeSpan.FromSeconds(20), $"taken over after {takeover}");
            // The claim is committed before the worker logs it: wait for the line rather than race it.
            await Api.EventuallyAsync(() =>
                Task.FromResult<JsonNode>(JsonValue.Create(stack.LogsOf(survivor).Contains($"run {runId} claimed by"))),
                logged => logged.GetValue<bool>(), TimeSpan.FromSeconds(30), stack.Logs);

            // The survivor finishes it from the checkpoint: one resumption, at a checkpoint's step; registered once.
            var ended = await Api.EventuallyAsync(() => Task.FromResult(Row()),
                r => r["state"]!.GetValue<string>() is "Completed" or "Failed", Deadline, stack.Logs);
            Assert.True(ended["state"]!.GetValue<string>() == "Completed", $"run ended {ended}\n{stack.Logs()}");
            Assert.Equal(3000, ended["step"]!.GetValue<int>());
            var resumedAt = (double)Scalar(db,
                $"SELECT \"Value\" FROM training.metrics WHERE \"RunId\" = '{runId}' AND \"Key\" = 'resumed_at_step'")!;
            Assert.Equal(0, resumedAt % 200);
            Assert.InRange(resumedAt, 200, 2800);
            Assert.Equal(1L,
                (long)Scalar(db, $"SELECT count(*) FROM registry.model_versions WHERE \"RunId\" = '{runId}'")!);
        }
        finally
        {
            await stack.StopAsync("Training-2");
            if (stack.HasExited("Training"))
                await stack.RestartExitedAsync("Training");
        }
    }

    [Fact]
    public async Task A_run_longer_than_the_brokers_consumer_timeout_trains_once_without_holding_a_delivery()
    {
        // New channels get a 5 s consumer timeout (RabbitMQ reads it when a channel opens): restart Training onto them.
        var configured = Broker.Eval("application:get_env(rabbit, consumer_timeout).").Trim();
        Broker.Eval("application:set_env(rabbit, consumer_timeout, 5000).");
        try
        {
            await stack.CrashAndRestartAsync("Training");
            var datasetId = await TokenizedDatasetAsync("long-run-data");
            var runId = await StartRunAsync(datasetId, "outlives-consumer-timeout", 100_000, 1000);
            await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{runId}"), r =>
                r["state"]!.GetValue<string>() == "Training", Deadline, stack.Logs);

            // While it trains, nothing is held unacknowledged in the training queue: the worker acknowledged at once.
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(75))
            {
                Assert.Equal(0, Broker.Unacknowledged("training-start-training"));
                await Task.Delay(TimeSpan.FromSeconds(5));
            }
            var (cancelStatus, _) = await Api.PostJsonAsync(Http, $"/api/runs/{runId}/cancel", "{}");
            Assert.Equal(HttpStatusCode.Accepted, cancelStatus);
            var ended = await FinishedAsync(runId);
            Assert.Equal("Cancelled", ended["state"]!.GetValue<string>());
            Assert.Equal(1, Api.CountOf(stack.LogsOf("Training"), $"run {runId} claimed by"));
            Assert.Empty(Series(await Api.GetOkAsync(Http, $"/api/runs/{runId}/metrics?keys=resumed_at_step"),
                "resumed_at_step"));
        }
        finally
        {
            // {ok,3600000} as infra-up.sh configures it; undefined leaves RabbitMQ's default.
            if (System.Text.RegularExpressions.Regex.Match(configured, @"\{ok,\s*(\d+)\}") is { Success: true } match)
                Broker.Eval($"application:set_env(rabbit, consumer_timeout, {match.Groups[1].Value}).");
            else
                Broker.Eval("application:unset_env(rabbit, consumer_timeout).");
        }
    }

    [Fact]
    public async Task A_row_that_cannot_be_dispatched_is_parked_without_blocking_the_others_and_an_admin_retries_it()
    {
        await using var db = new NpgsqlConnection(stack.PostgresConnection);
        await db.OpenAsync();
        var progressed = typeof(Platform.Contracts.TrainingProgressed).AssemblyQualifiedName!;
        var body = $"{{\"RunId\":\"{Guid.NewGuid()}\",\"Step\":1,\"MaxSteps\":2,\"Loss\":1.0,\"TokensPerSecond\":1.0," +
            $"\"EtaSeconds\":null,\"At\":\"2026-01-01T00:00:00Z\"}}";
        long Insert(string type) => (long)new NpgsqlCommand(
            $"INSERT INTO training.outbox_messages (\"MessageType\", \"Body\", \"CreatedAt\", \"Attempts\") VALUES " +
            $"(@t, @b::jsonb, now(), 0) RETURNING \"Id\"", db)
        { Parameters = { new("t", type), new("b", body) } }.ExecuteScalar()!;
        var broken = Insert("Platform.Contracts.NoSuchMessage, Platform.Contracts");
        var behind = Insert(progressed);

        var parked = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, "/api/admin/outbox?state=parked"),
            page => page["items"]!.AsArray().Any(r => r!["id"]!.GetValue<long>() == broken
            && r["service"]!.GetValue<string>() == "training"),
            TimeSpan.FromSeconds(30), stack.Logs);
        var row = parked["items"]!.AsArray().Single(r => r!["id"]!.GetValue<long>() == broken
            && r["service"]!.GetValue<string>() == "training")!;
        Assert.Equal(3, row["attempts"]!.GetValue<int>());
        Assert.Contains("NoSuchMessage", row["lastError"]!.GetValue<string>());
        Assert.Empty(parked["unanswered"]!.AsArray());
        Assert.NotNull(Scalar(db, $"SELECT \"DispatchedAt\" FROM training.outbox_messages WHERE \"Id\" = {behind}"));

        // Only admins see or retry parked rows.
        var (_, viewer) = await Api.CreateKeyAsync(Http, "outbox-viewer", "viewer");
        Assert.Equal(HttpStatusCode.Forbidden,
            (await Api.GetAsync(PlatformStack.ClientWithKey(viewer), "/api/admin/outbox")).Status);

        // Mend the row (as an admin would after deploying the missing type), then retry it: it is dispatched.
        new NpgsqlCommand($"UPDATE training.outbox_messages SET \"MessageType\" = @t WHERE \"Id\" = {broken}",
            db)
        { Parameters = { new("t", progressed) } }.ExecuteNonQuery();
        var (retryStatus, retried) = await Api.PostJsonAsync(Http, $"/api/admin/outbox/training/{broken}/retry", "{}");
        Assert.True(retryStatus == HttpStatusCode.OK, $"retry answered {(int)retryStatus}: {retried}");
        Assert.Equal("pending", retried!["state"]!.GetValue<string>());
        await Api.EventuallyAsync(() =>
            Task.FromResult<JsonNode>(JsonValue.Create(Scalar(db,
            $"SELECT \"DispatchedAt\" FROM training.outbox_messages WHERE \"Id\" = {broken}") is not null)),
            d => d.GetValue<bool>(), TimeSpan.FromSeconds(30), stack.Logs);
        var (againStatus, _) = await Api.PostJsonAsync(Http, $"/api/admin/outbox/training/{broken}/retry", "{}");
        Assert.Equal(HttpStatusCode.Conflict, againStatus);

        // Dispatched rows go after the retention window (36 s in the test stack): one dispatched a day ago is deleted.
        new NpgsqlCommand($"UPDATE training.outbox_messages SET \"DispatchedAt\" = now() - interval '1 day' WHERE " +
            $"\"Id\" = {behind}", db).ExecuteNonQuery();
        await Api.EventuallyAsync(() =>
            Task.FromResult<JsonNode>(JsonValue.Create((long)Scalar(db,
            $"SELECT count(*) FROM training.outbox_messages WHERE \"Id\" = {behind}")!)),
            n => n.GetValue<long>() == 0, TimeSpan.FromSeconds(60), stack.Logs);
    }

    [Fact]
    public async Task One_upload_is_one_trace_from_the_gateway_through_every_service_to_registration()
    {
        var traceId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(Encoding.UTF8.GetBytes(Api.DemoCorpus[..20_000])), "file", "corpus.txt" },
            { new StringContent("traced"), "name" },
            { new StringContent("char"), "tokenizer" },
            { new StringContent($"{{\"name\":\"traced-run\",{TinyModel},{Training(20, 10)}}}"), "autoTrain" },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/datasets") { Content = form };
        var spanId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        request.Headers.Add("traceparent", $"00-{traceId}-{spanId}-01");
        using var response = await Http.SendAsync(request);
        var dataset = await Api.ReadAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted,
            $"upload answered {(int)response.StatusCode}: {dataset}");
        var run = await FinishedAsync(dataset!["autoTrainRunId"]!.GetValue<string>());
        Assert.Equal("Completed", run["state"]!.GetValue<string>());

        // Each service exports in its own batches: wait until every service and the spans named below have arrived.
        string[] services = ["Gateway", "Ingestion", "Tokenization", "Training", "Evaluation", "Generation"];
        (string Service, string Name)[] named = [("Training", "train run"),
            ("Training", "outbox publish ModelVersionRegistered"),
            ("Evaluation", "outbox publish EvaluationCompleted"), ("Ingestion", "outbox publish DatasetIngested")];
        List<ReceivedSpan> Trace() => stack.Traces.Spans.Where(s => s.TraceId == traceId).ToList();
        // Every span but the one under the client's own root has its parent in the same trace: one tree, not fragments.
        List<ReceivedSpan> Orphans(List<ReceivedSpan> spans) =>
            spans.Where(s => s.ParentSpanId.Length > 0 && !spans.Any(p => p.SpanId == s.ParentSpanId)).ToList();
        await Api.EventuallyAsync(() =>
            {
                var spans = Trace();
                return Task.FromResult<JsonNode>(JsonValue.Create(services.All(name =>
                    spans.Any(s => s.Service == name))
                    && named.All(n => spans.Any(s => s.Service == n.Service && s.Name == n.Name))
                    && Orphans(spans).Count <= 1));
            },
            complete => complete.GetValue<bool>(), TimeSpan.FromSeconds(30),
            () => "spans: " + string.Join("; ", Trace().Select(s => $"{s.Service}: {s.Name}")) +
                  "\norphans: " + string.Join("; ", Orphans(Trace()).Select(o => $"{o.Service}: {o.Name}")));
    }

    [Fact]
    public async Task Every_service_serves_prometheus_metrics_through_the_gateway_to_any_key_and_to_no_one_without()
    {
        var datasetId = await TokenizedDatasetAsync("metrics-data");
        var run = await FinishedAsync(await StartRunAsync(datasetId, "metrics-run", 30, 10));
        Assert.Equal("Completed", run["state"]!.GetValue<string>());
        // Generation hears of the new version by its event: until then the model is unknown there (404).
        await Api.EventuallyAsync(async () => JsonValue.Create((int)(await Api.PostJsonAsync(Http, "/api/generate",
                "{\"model\":\"metrics-run\",\"prompt\":\"The \",\"maxTokens\":5}")).Status),
            status => status.GetValue<int>() == 200, TimeSpan.FromSeconds(30), stack.Logs);

        var (_, viewer) = await Api.CreateKeyAsync(Http, "metrics-viewer", "viewer");
        var scraper = PlatformStack.ClientWithKey(viewer);
        async Task<string> ScrapeAsync(string path)
        {
            using var response = await scraper.GetAsync(path);
            Assert.True(response.IsSuccessStatusCode, $"{path} answered {(int)response.StatusCode}");
            return await response.Content.ReadAsStringAsync();
        }
        Assert.Contains("aspnetcore_rate_limiting_requests_total", await ScrapeAsync("/metrics"));
        Assert.Contains("platform_outbox_dispatched_total", await ScrapeAsync("/metrics/ingestion"));
        var training = await ScrapeAsync("/metrics/training");
        foreach (var name in new[] { "platform_training_tokens_total", "platform_training_step_duration_seconds_bucket",
            "platform_training_runs_ended_total",
                     "messaging_masstransit_consume_ea_total", "db_client_operation_duration_seconds_bucket",
                     "http_server_request_duration_seconds_bucket" })
            Assert.Contains(name, training);
        var generation = await ScrapeAsync("/metrics/generation");
        foreach (var name in new[] { "platform_generation_time_to_first_token_seconds_bucket",
            "platform_generation_tokens_total", "platform_generation_queued" })
            Assert.Contains(name, generation);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stack.Anonymous.GetAsync("/metrics/training")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stack.Anonymous.GetAsync("/metrics")).StatusCode);
    }

    private static object? Scalar(NpgsqlConnection db, string sql)
    {
        var value = new NpgsqlCommand(sql, db).ExecuteScalar();
        return value is DBNull ? null : value;
    }

    private static List<double> Series(JsonNode metrics, string key) =>
        metrics["series"]!.AsArray().FirstOrDefault(s => s!["key"]!.GetValue<string>() == key)?["points"]!.AsArray()
            .Select(p => p!["value"]!.GetValue<double>()).ToList() ?? [];
}
