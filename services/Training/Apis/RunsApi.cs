using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;
using Platform.Storage;
using Training.Data;
using Training.Registry;
using Training.Runs;

namespace Training.Apis;

public static class RunsApi
{
    public const int DefaultMaxPoints = 1000, MaxMaxPoints = 100_000;

    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/runs").WithTags("Runs");
        group.MapPost("/", CreateAsync);
        group.MapPost("/estimate", EstimateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/compare", CompareAsync);
        group.MapGet("/search", SearchAsync);
        group.MapGet("/dependents", DependentsAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapPatch("/{id:guid}", PatchAsync).RetriedOnConflict<TrainingDbContext>();
        group.MapGet("/{id:guid}/metrics", MetricsAsync);
        group.MapGet("/{id:guid}/events", EventsAsync);
        group.MapPost("/{id:guid}/cancel", CancelAsync).RetriedOnConflict<TrainingDbContext>();
        group.MapPost("/{id:guid}/resume", ResumeAsync).RetriedOnConflict<TrainingDbContext>();
        group.MapDelete("/{id:guid}", DeleteAsync).RetriedOnConflict<TrainingDbContext>();
        return app;
    }

    /// <summary>What the run would take (parameters, FLOPs, peak memory against the worker's, time), without starting
    /// anything.</summary>
    private static async Task<Results<Ok<RunEstimate>, ProblemHttpResult>> EstimateAsync(HttpContext http,
        TrainingDbContext db, RunEstimator estimator, PrecisionChoice precisions, ArtifactStore store,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<CreateRunRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var spec = body!.ToSpec();
        var errors = RunSpecValidator.Validate(spec with { Name = spec.Name.Length == 0 ? "estimate" : spec.Name });
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The run is invalid.");
        var dataset = body.DatasetId is { } id ? await db.Datasets.FindAsync([id], cancellationToken) : null;
        var vocab = dataset?.VocabSize;
        // A run in epochs on a tokenized dataset: its steps are counted as the worker will count them.
        if (spec.Training.Epochs is { } epochs
            && dataset is { Status: DatasetStatus.Tokenized, TrainTokensKey: not null })
            spec = spec.WithMaxSteps((int)Math.Min(RunSpecValidator.MaxSteps,
                (long)epochs * TrainingJob.StepsPerEpoch(spec, dataset, store)));
        var measured = await precisions.MeasuredAsync(spec, vocab ?? RunEstimator.AssumedVocabSize, cancellationToken);
        var estimate = estimator.Estimate(spec, vocab, measured);
        return TypedResults.Ok(await RunEstimator.WithMeasuredTimeAsync(estimate, db, cancellationToken));
    }

    /// <summary>
    /// A run the platform trains (202: it is queued, or waits for its dataset), or with "external": true a run a
    /// user's script trains and logs to (201; see <see cref="RunTrackingApi"/>). Either may name an experiment the
    /// caller owns.
    /// </summary>
    private static async Task<Results<Accepted<RunResponse>, Created<RunResponse>, ProblemHttpResult>> CreateAsync(
        HttpContext http, TrainingDbContext db, RunCreation creation, ModelRegistry registry,
        CancellationToken cancellationToken)
    {
        // Read raw first: a fine-tune must know which model fields the request set, not just their values after
        // defaults.
        var (json, problem) = await JsonBody.ReadAsync<JsonObject>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        if (json!["external"] is JsonValue external && external.GetValueKind() == JsonValueKind.True)
        {
            var (tracked, invalid) = await RunTrackingApi.CreateAsync(json, http, db, cancellationToken);
            if (invalid is not null)
                return invalid;
            return TypedResults.Created($"/api/runs/{tracked!.Id}", RunResponse.From(tracked));
        }
        var experiment = json["experiment"];
        json.Remove("experiment");
        json.Remove("external");
        var (prepared, refused) = await creation.PrepareAsync(json, http.Request, cancellationToken);
        if (refused is not null)
            return refused;
        var caller = http.Caller();
        var (experimentId, notJoinable) = await RunTrackingApi.ExperimentOfAsync(experiment, caller, db,
            cancellationToken);
        if (notJoinable is not null)
            return notJoinable;
        if (await registry.RefuseNameAsync(prepared!.Spec.Name, caller, "name", cancellationToken) is { } taken)
            return taken;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (run, rejected) = await creation.AddAsync(prepared, caller.AsOwner(), sweepId: null, cancellationToken);
        if (rejected is not null)
            return rejected;
        if (experimentId is { } joined)
            run!.JoinExperiment(joined);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Accepted($"/api/runs/{run!.Id}", RunResponse.From(run));
    }

    /// <summary>Where a page of a search ended: the search it belongs to and how many runs came before.</summary>
    public sealed record SearchPosition(string Filter, string Order, int Offset);

    /// <summary>
    /// Runs matching an MLflow-style filter (see <see cref="RunFilter"/>), in orderBy's order (MLflow's order_by is
    /// taken too), a page at a time. A filter or order that does not parse is a 400 naming the field and the position
    /// of the fault.
    /// </summary>
    private static async Task<Results<Ok<Page<RunResponse>>, ProblemHttpResult>> SearchAsync(HttpContext http,
        TrainingDbContext db, RunSearch search, string? filter, string? orderBy,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "order_by")] string? mlflowOrderBy, int? limit, string? cursor,
        CancellationToken cancellationToken)
    {
        var (take, after, errors) = Pages.Read<SearchPosition>(limit, cursor);
        var (filterText, orderText) = (filter ?? "", orderBy ?? mlflowOrderBy ?? "");
        IReadOnlyList<FilterClause> clauses = [];
        IReadOnlyList<OrderTerm> order = [];
        try
        {
            clauses = RunFilter.Parse(filterText);
        }
        catch (RunFilterException ex)
        {
            errors.Add("filter", ex.Message);
        }
        try
        {
            if (orderText.Trim().Length > 0)
                order = RunFilter.ParseOrder(orderText);
        }
        catch (RunFilterException ex)
        {
            errors.Add(orderBy is null ? "order_by" : "orderBy", ex.Message);
        }
        errors.Require(after is null || (after.Filter == filterText && after.Order == orderText), "cursor",
            "was given out for another search.");
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The search is invalid.");
        var readable = await db.ReadableRunsAsync(http.Caller(), cancellationToken);
        var found = await search.SearchAsync(readable, clauses, order, cancellationToken);
        var offset = after?.Offset ?? 0;
        var page = found.Skip(offset).Take(take).ToList();
        var next = offset + page.Count < found.Count
            ? Pages.Encode(new SearchPosition(filterText, orderText, offset + page.Count))
            : null;
        return TypedResults.Ok(new Page<RunResponse>([.. page.Select(RunResponse.From)], next));
    }

    /// <summary>
    /// Runs, a page at a time (limit, cursor), newest first or by best validation loss (runs without one last) or by
    /// step; filtered by dataset, sweep, state, name, tag and owner.
    /// </summary>
    private static async Task<Results<Ok<Page<RunResponse>>, ProblemHttpResult>> ListAsync(HttpContext http,
        TrainingDbContext db, Guid? datasetId, Guid? sweepId, string? state, string? name, string? owner, string? tag,
        string? orderBy, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var (take, after, errors) = Pages.Read<RunPosition>(limit, cursor);
        errors.Require(orderBy is null or "" or "created" or "val_loss" or "step", "orderBy",
            "must be one of created, val_loss, step.");
        var order = string.IsNullOrEmpty(orderBy) ? "created" : orderBy;
        errors.Require(after is null || after.Order == order, "cursor",
            $"was given out for orderBy={after?.Order}, not {order}.");
        RunState? parsedState = null;
        if (!string.IsNullOrEmpty(state))
        {
            if (Enum.TryParse<RunState>(state, ignoreCase: true, out var parsed) && parsed != RunState.Deleted)
                parsedState = parsed;
            else
            {
                var states = Enum.GetNames<RunState>().Where(n => n != nameof(RunState.Deleted));
                errors.Add("state", $"must be one of {string.Join(", ", states)}.");
            }
        }
        if (!errors.IsValid)
            return Pages.Invalid(errors);

        var readable = await db.ReadableRunsAsync(http.Caller(), cancellationToken);
        var query = readable.AsNoTracking().OwnedBy(OwnerFilter.Parse(owner, http.Caller()));
        if (datasetId is { } d)
            query = query.Where(r => r.DatasetId == d);
        if (sweepId is { } sweep)
            query = query.Where(r => r.SweepId == sweep);
        if (parsedState is { } s)
            query = query.Where(r => r.State == s);
        if (!string.IsNullOrEmpty(name))
            query = query.Where(r => r.Name == name);
        if (!string.IsNullOrEmpty(tag))
            query = query.Where(r => r.Tags.Contains(tag));
        // Keyset pagination: each order ends in (CreatedAt, Id) descending, so a cursor names exactly one place; newest
        // first is the order every list shares.
        if (order == "created")
            query = query.NewestFirst(after is { } c ? new CreatedPosition(c.At, c.Id) : null);
        else
        {
            if (after is { } p)
                query = order switch
                {
                    "val_loss" when p.Value is { } v =>
                        query.Where(r => r.BestValidationLoss == null || r.BestValidationLoss > v
                        || r.BestValidationLoss == v
                        && (r.CreatedAt < p.At || r.CreatedAt == p.At && r.Id.CompareTo(p.Id) < 0)),
                    "val_loss" =>
                    query.Where(r => r.BestValidationLoss == null
                    && (r.CreatedAt < p.At || r.CreatedAt == p.At && r.Id.CompareTo(p.Id) < 0)),
                    _ => query.Where(r => r.Step < p.Value || r.Step == p.Value
                    && (r.CreatedAt < p.At || r.CreatedAt == p.At && r.Id.CompareTo(p.Id) < 0)),
                };
            query = order == "val_loss"
                ? query.OrderBy(r => r.BestValidationLoss == null).ThenBy(r =>
                r.BestValidationLoss).ThenByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
                : query.OrderByDescending(r => r.Step).ThenByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id);
        }
        return TypedResults.Ok(await query.PageAsync(take, r => new RunPosition(order,
            order switch { "val_loss" => r.BestValidationLoss, "step" => r.Step, _ => null }, r.CreatedAt, r.Id),
            RunResponse.From, cancellationToken));
    }

    /// <summary>A run on a dataset the caller may not read is as unknown as one that never existed (404).</summary>
    private static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http,
        TrainingDbContext db,
        CancellationToken cancellationToken) =>
        await (await db.ReadableRunsAsync(http.Caller(), cancellationToken)).AsNoTracking()
            .FirstOrDefaultAsync(r => r.Id == id, cancellationToken) is { } run
            ? TypedResults.Ok(RunResponse.From(run))
            : RunLookup.NotFound(id);

    /// <summary>
    /// What deleting a dataset with cascade takes away, of every owner: the runs on it and the versions learned from
    /// it (with their aliases). Ingestion asks before it deletes; a caller sees only what it may read.
    /// </summary>
    private static async Task<Results<Ok<DatasetDependents>, ProblemHttpResult>> DependentsAsync(Guid? datasetId,
        HttpContext http, TrainingDbContext db, ModelRegistry registry, CancellationToken cancellationToken)
    {
        if (datasetId is not { } id)
            return Problems.Invalid("datasetId", "is required.");
        var learned = await registry.LearnedFromAsync(id, cancellationToken);
        // One look at the reach of this dataset and of what the versions learned from, not of every dataset.
        var readable = await db.ReadableAmongAsync(http.Caller(), [id, .. learned.SelectMany(v => v.Lineage)],
            cancellationToken);
        var runs = readable.Covers([id])
            ? await db.LiveRuns.AsNoTracking().Where(r => r.DatasetId == id).OrderBy(r => r.CreatedAt)
                .ToListAsync(cancellationToken)
            : [];
        var versions = learned.Where(v => readable.Covers(v.Lineage)).ToList();
        return TypedResults.Ok(new DatasetDependents(
            [.. runs.Select(r => new DependentRun(r.Id, r.Name, r.State.ToString(), r.ModelVersion, r.OwnerOf()))],
            versions));
    }

    /// <summary>By the run's owner or an admin: replaces its tags and/or its note.</summary>
    private static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> PatchAsync(Guid id, HttpContext http,
        TrainingDbContext db,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<RunPatch>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = Annotations.Validate(body!.Tags, body.Note, "note");
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The run update is invalid.");
        var (run, refused) = await RunLookup.ChangeableAsync(id, http, db, cancellationToken);
        if (refused is not null)
            return refused;
        run!.Annotate(body.Tags, body.Note);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(RunResponse.From(run));
    }

    /// <summary>
    /// Two to ten runs side by side: every hyper-parameter with the differing ones marked, and each metric's series on
    /// one step axis (the union of the runs' steps; a run without a point at a step has null there).
    /// </summary>
    private static async Task<Results<Ok<RunComparison>, ProblemHttpResult>> CompareAsync(string? ids, string? keys,
        HttpContext http,
        TrainingDbContext db, CancellationToken cancellationToken)
    {
        var parts = (ids ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var parsed = parts.Select(p => Guid.TryParse(p, out var g) ? g : Guid.Empty).ToList();
        if (parsed.Count is < 2 or > 10 || parsed.Contains(Guid.Empty) || parsed.Distinct().Count() != parsed.Count)
            return Problems.Invalid("ids", "must be 2 to 10 distinct run ids, separated by commas.",
                "The comparison is invalid.");
        var readable = await db.ReadableRunsAsync(http.Caller(), cancellationToken);
        var runs = await readable.AsNoTracking().Where(r => parsed.Contains(r.Id)).ToListAsync(cancellationToken);
        if (parsed.FirstOrDefault(id => runs.All(r => r.Id != id)) is var missing && missing != Guid.Empty)
            return RunLookup.NotFound(missing);
        runs = [.. parsed.Select(id => runs.First(r => r.Id == id))];

        var options = JsonBody.Options(http.Request);
        var flattened = runs.Select(r =>
            RunParameters.Flatten(JsonSerializer.SerializeToNode(new
            {
                r.Spec.Model,
                r.Spec.Training,
                r.Spec.InitFrom,
                r.Spec.FineTune
            }, options)!, "")).ToList();
        var parameters = flattened.SelectMany(f => f.Keys).Distinct().Order(StringComparer.Ordinal).Select(key =>
        {
            var values = flattened.Select(f => f.GetValueOrDefault(key)?.DeepClone()).ToList();
            return new ParameterRow(key, values, values.Any(v => !JsonNode.DeepEquals(v, values[0])));
        }).ToList();

        var wanted = (keys ?? "loss,val_loss,lr").Split(',',
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var points = await db.Metrics.AsNoTracking().Where(m => parsed.Contains(m.RunId) && wanted.Contains(m.Key))
            .Select(m => new { m.RunId, m.Key, m.Step, m.Value, m.Id }).ToListAsync(cancellationToken);
        var metrics = points.GroupBy(p => p.Key).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var steps = g.Select(p => p.Step).Distinct().Order().ToList();
            var aligned = runs.Select(r =>
            {
                // The last value recorded at a step wins (a resumed run may record a step twice).
                var byStep = g.Where(p => p.RunId == r.Id).OrderBy(p => p.Id).GroupBy(p => p.Step).ToDictionary(s =>
                    s.Key, s => s.Last().Value);
                return (IReadOnlyList<double?>)[.. steps.Select(s => byStep.TryGetValue(s, out var v) ? v
                    : (double?)null)];
            }).ToList();
            return new AlignedSeries(g.Key, steps, aligned);
        }).ToList();
        return TypedResults.Ok(new RunComparison([.. runs.Select(RunResponse.From)], parameters, metrics));
    }

    /// <summary>
    /// Server-Sent Events for live views: "run" (the run as GET returns it) first and whenever its state may have
    /// changed, "progress" (TrainingProgressed, with every metric point since the last) as the trainer reports. The
    /// stream ends with the run's final "run" event; a run that has already ended sends just that one.
    /// </summary>
    private static async Task<Results<ServerSentEventsResult<object>, ProblemHttpResult>> EventsAsync(Guid id,
        HttpContext http, TrainingDbContext db, RunProgressFeed feed, IServiceScopeFactory scopes,
            CancellationToken cancellationToken)
    {
        var readable = await db.ReadableRunsAsync(http.Caller(), cancellationToken);
        var run = await readable.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (run is null)
            return RunLookup.NotFound(id);
        return TypedResults.ServerSentEvents(RunEventsAsync(run, feed, scopes, cancellationToken));
    }

    private static async IAsyncEnumerable<System.Net.ServerSentEvents.SseItem<object>> RunEventsAsync(Run first,
        RunProgressFeed feed,
        IServiceScopeFactory scopes,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var subscription = feed.Subscribe(first.Id);
        yield return new(RunResponse.From(first), "run");
        if (first.IsFinished)
            yield break;
        // The row is read again after each quiet spell or a few seconds of progress: states change without a progress
        // event.
        var refreshAt = DateTimeOffset.UtcNow + RefreshInterval;
        while (!cancellationToken.IsCancellationRequested)
        {
            TrainingProgressed? progress = null;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                wait.CancelAfter(RefreshInterval);
                try
                {
                    if (await subscription.Reader.WaitToReadAsync(wait.Token))
                        subscription.Reader.TryRead(out progress);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }
            }
            if (progress is not null)
                yield return new(progress, "progress");
            if (progress is not null && DateTimeOffset.UtcNow < refreshAt)
                continue;
            refreshAt = DateTimeOffset.UtcNow + RefreshInterval;
            await using var scope = scopes.CreateAsyncScope();
            var run = await scope.ServiceProvider.GetRequiredService<TrainingDbContext>().Runs.AsNoTracking()
                .FirstOrDefaultAsync(r => r.Id == first.Id, cancellationToken);
            if (run is null)
                yield break;
            yield return new(RunResponse.From(run), "run");
            if (run.IsFinished)
                yield break;
        }
    }

    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(3);

    private static async Task<Results<Ok<MetricsResponse>, ProblemHttpResult>> MetricsAsync(Guid id, string? keys,
        int? maxPoints, HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        if (maxPoints is < 4 or > MaxMaxPoints)
            return Problems.Invalid("maxPoints", $"must be between 4 and {MaxMaxPoints}.");
        if (!await RunLookup.IsReadableAsync(id, http, db, cancellationToken))
            return RunLookup.NotFound(id);
        var wanted = keys?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var query = db.Metrics.AsNoTracking().Where(m => m.RunId == id);
        if (wanted is { Length: > 0 })
            query = query.Where(m => wanted.Contains(m.Key));
        var points = await query.OrderBy(m => m.Key).ThenBy(m => m.Step).ThenBy(m => m.Id)
            .Select(m => new { m.Key, m.Step, m.Value, m.Timestamp }).ToListAsync(cancellationToken);
        var series = points.GroupBy(p => p.Key).Select(g =>
        {
            var all = g.Select(p => new MetricPointResponse(p.Step, p.Value, p.Timestamp)).ToList();
            return new MetricSeriesResponse(g.Key, all.Count,
                SeriesDownsampler.Downsample(all, maxPoints ?? DefaultMaxPoints, p => p.Value));
        }).ToList();
        return TypedResults.Ok(new MetricsResponse(id, series));
    }

    /// <summary>By its owner or an admin: a run not started is cancelled now, a training one at its next
    /// step.</summary>
    private static async Task<Results<Accepted<RunResponse>, ProblemHttpResult>> CancelAsync(Guid id,
        HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var (run, refused) = await RunLookup.ChangeableAsync(id, http, db, cancellationToken);
        if (refused is not null)
            return refused;
        try
        {
            run!.RequestCancel();
        }
        catch (RunStateException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "The run cannot be cancelled.",
                detail: ex.Message);
        }
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Accepted($"/api/runs/{id}", RunResponse.From(run));
    }

    /// <summary>By its owner or an admin: continues a Failed or Cancelled run from its latest checkpoint.</summary>
    private static async Task<Results<Accepted<RunResponse>, ProblemHttpResult>> ResumeAsync(Guid id,
        HttpContext http, TrainingDbContext db, TrainingJob job, CancellationToken cancellationToken)
    {
        var (run, refused) = await RunLookup.ChangeableAsync(id, http, db, cancellationToken);
        if (refused is not null)
            return refused;
        if (run!.State is (RunState.Failed or RunState.Cancelled) && job.ResumableStep(run) is null)
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The run cannot be resumed.",
                detail: $"Run {id} has no checkpoint yet (one is written after each evaluation).");
        try
        {
            run.Resume();
        }
        catch (RunStateException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The run cannot be resumed.",
                detail: ex.Message);
        }
        db.SendViaOutbox(new StartTraining(run.Id), Queues.StartTraining);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Accepted($"/api/runs/{id}", RunResponse.From(run));
    }

    /// <summary>
    /// By its owner or an admin: deletes the run's checkpoints, metrics and evaluation. A registered version makes
    /// this a 409 until the version is deleted (DELETE /api/models/{name}/versions/{n}), or with cascade=true, which
    /// takes the version along: the registry deletes it when it hears RunDeleted. An alias or a LoRA version resting on
    /// that version refuses both. A training run stops first (202); otherwise 200.
    /// </summary>
    private static async Task<Results<Ok<RunDeletionResponse>, Accepted<RunDeletionResponse>, ProblemHttpResult>>
        DeleteAsync(Guid id, bool? cascade, HttpContext http, TrainingDbContext db, RunDeletion deletion,
        ModelRegistry registry, CancellationToken cancellationToken)
    {
        var (run, refused) = await RunLookup.ChangeableAsync(id, http, db, cancellationToken);
        if (refused is not null)
            return refused;
        List<string> versions = run!.ModelVersion is { } registered ? [$"{run.Name}/versions/{registered}"] : [];
        if (await registry.RefuseDeletionAsync(versions, cancellationToken) is { } adapted)
            return adapted;
        if (versions.Count > 0 && cascade != true)
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "A model version depends on this run.",
                detail: $"Run {id} registered {string.Join(", ", versions)}. Delete with ?cascade=true to remove the " +
                $"version as well.",
                extensions: new Dictionary<string, object?> { ["modelVersions"] = versions });
        var now = await deletion.DeleteOrScheduleAsync(run, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        if (!now)
            return TypedResults.Accepted($"/api/runs/{id}", new RunDeletionResponse(id, "DeleteRequested", versions));
        deletion.RemoveFiles(id);
        return TypedResults.Ok(new RunDeletionResponse(id, nameof(RunState.Deleted), versions));
    }

}
