using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Messaging;
using Training.Data;
using Training.Runs;

namespace Training.Apis;

public static class RunsApi
{
    public const int DefaultMaxPoints = 1000, MaxMaxPoints = 100_000;

    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/runs").WithTags("Runs");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapGet("/{id:guid}/metrics", MetricsAsync);
        group.MapPost("/{id:guid}/cancel", CancelAsync);
        group.MapPost("/{id:guid}/resume", ResumeAsync);
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, TrainingDbContext db, IngestionClient ingestion, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<CreateRunRequest>(request, cancellationToken);
        if (problem is not null)
            return problem;
        var spec = body!.ToSpec();
        var errors = RunSpecValidator.Validate(spec);
        errors.Require(body.DatasetId is { } d && d != Guid.Empty, "datasetId", "is required.");
        if (!errors.IsValid)
            return Results.ValidationProblem(errors.ToDictionary(), title: "The run is invalid.");
        var datasetId = body.DatasetId!.Value;

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await RunScheduler.LockDatasetAsync(db, datasetId, cancellationToken);
        var dataset = await db.Datasets.FindAsync([datasetId], cancellationToken);
        if (dataset is null)
        {
            var remote = await ingestion.FindAsync(datasetId, cancellationToken);
            if (remote is null)
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Dataset not found.", detail: $"No dataset has id {datasetId}.");
            dataset = new KnownDataset
            {
                Id = datasetId,
                Name = remote.Name,
                Status = remote.State == "Failed" ? DatasetStatus.Failed : DatasetStatus.Ingested,
                FailureReason = remote.FailureReason,
                UpdatedAt = DateTimeOffset.UtcNow,
            };
            db.Datasets.Add(dataset);
        }
        if (dataset.Status == DatasetStatus.Failed)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The dataset failed.",
                detail: $"Dataset {datasetId} cannot be trained on: {dataset.FailureReason}");

        var run = new Run
        {
            Id = Guid.NewGuid(),
            Name = spec.Name,
            DatasetId = datasetId,
            Spec = spec,
            MaxSteps = spec.Training.MaxSteps,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        db.Runs.Add(run);
        RunScheduler.Schedule(db, run, dataset);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return Results.Accepted($"/api/runs/{run.Id}", RunResponse.From(run));
    }

    /// <summary>Search runs: by dataset, state and name; ordered by creation (newest first), best validation loss or step.</summary>
    private static async Task<IResult> ListAsync(TrainingDbContext db, Guid? datasetId, string? state, string? name, string? orderBy, int? limit,
        CancellationToken cancellationToken)
    {
        if (orderBy is not (null or "" or "created" or "val_loss" or "step"))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["orderBy"] = ["must be one of created, val_loss, step."] });
        var query = db.Runs.AsNoTracking();
        if (datasetId is { } d)
            query = query.Where(r => r.DatasetId == d);
        if (!string.IsNullOrEmpty(state))
        {
            if (!Enum.TryParse<RunState>(state, ignoreCase: true, out var parsed))
                return Results.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["state"] = [$"must be one of {string.Join(", ", Enum.GetNames<RunState>())}."],
                });
            query = query.Where(r => r.State == parsed);
        }
        if (!string.IsNullOrEmpty(name))
            query = query.Where(r => r.Name == name);
        query = orderBy switch
        {
            "val_loss" => query.OrderBy(r => r.BestValidationLoss == null).ThenBy(r => r.BestValidationLoss).ThenByDescending(r => r.CreatedAt),
            "step" => query.OrderByDescending(r => r.Step).ThenByDescending(r => r.CreatedAt),
            _ => query.OrderByDescending(r => r.CreatedAt),
        };
        var runs = await query.Take(Math.Clamp(limit ?? 100, 1, 1000)).ToListAsync(cancellationToken);
        return Results.Ok(runs.Select(RunResponse.From));
    }

    private static async Task<IResult> GetAsync(Guid id, TrainingDbContext db, CancellationToken cancellationToken) =>
        await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, cancellationToken) is { } run
            ? Results.Ok(RunResponse.From(run))
            : RunNotFound(id);

    private static async Task<IResult> MetricsAsync(Guid id, string? keys, int? maxPoints, TrainingDbContext db, CancellationToken cancellationToken)
    {
        if (maxPoints is < 4 or > MaxMaxPoints)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["maxPoints"] = [$"must be between 4 and {MaxMaxPoints}."] });
        if (!await db.Runs.AnyAsync(r => r.Id == id, cancellationToken))
            return RunNotFound(id);
        var wanted = keys?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var query = db.Metrics.AsNoTracking().Where(m => m.RunId == id);
        if (wanted is { Length: > 0 })
            query = query.Where(m => wanted.Contains(m.Key));
        var points = await query.OrderBy(m => m.Key).ThenBy(m => m.Step).ThenBy(m => m.Id)
            .Select(m => new { m.Key, m.Step, m.Value, m.Timestamp }).ToListAsync(cancellationToken);
        var series = points.GroupBy(p => p.Key).Select(g =>
        {
            var all = g.Select(p => new MetricPointResponse(p.Step, p.Value, p.Timestamp)).ToList();
            return new MetricSeriesResponse(g.Key, all.Count, SeriesDownsampler.Downsample(all, maxPoints ?? DefaultMaxPoints, p => p.Value));
        }).ToList();
        return Results.Ok(new MetricsResponse(id, series));
    }

    private static async Task<IResult> CancelAsync(Guid id, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (run is null)
            return RunNotFound(id);
        if (run.IsFinished || run.State == RunState.Evaluating)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The run cannot be cancelled.",
                detail: $"Run {id} is {run.State}.");
        run.CancelRequested = true;
        run.UpdatedAt = DateTimeOffset.UtcNow;
        if (run.State is RunState.WaitingForData or RunState.Queued)
        {
            // Not started: cancel now. A StartTraining already queued will see the flag and do nothing.
            run.State = RunState.Cancelled;
            run.FinishedAt = run.UpdatedAt;
        }
        await db.SaveChangesAsync(cancellationToken);
        return Results.Accepted($"/api/runs/{id}", RunResponse.From(run));
    }

    /// <summary>Continues a Failed or Cancelled run from its latest checkpoint.</summary>
    private static async Task<IResult> ResumeAsync(Guid id, TrainingDbContext db, TrainingJob job, CancellationToken cancellationToken)
    {
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (run is null)
            return RunNotFound(id);
        if (run.State is not (RunState.Failed or RunState.Cancelled))
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The run cannot be resumed.",
                detail: $"Run {id} is {run.State}; only Failed or Cancelled runs resume.");
        if (job.ResumableStep(run) is null)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The run cannot be resumed.",
                detail: $"Run {id} has no checkpoint yet (one is written after each evaluation).");
        run.State = RunState.Queued;
        run.CancelRequested = false;
        run.FailureReason = null;
        run.FinishedAt = null;
        run.UpdatedAt = DateTimeOffset.UtcNow;
        db.SendViaOutbox(new StartTraining(run.Id), Queues.StartTraining);
        await db.SaveChangesAsync(cancellationToken);
        return Results.Accepted($"/api/runs/{id}", RunResponse.From(run));
    }

    private static IResult RunNotFound(Guid id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Run not found.", detail: $"No run has id {id}.");
}
