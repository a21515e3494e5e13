using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;
using Training.Data;
using Training.Registry;
using Training.Runs;
using Training.Sweeps;

namespace Training.Apis;

/// <summary>
/// Hyper-parameter sweeps: one request fans out runs that any training worker takes from the queue; the sweep tracks
/// them (state, best so far), cancels them together, and can move an alias to the best run's version at the end.
/// </summary>
public static class SweepsApi
{
    public static IEndpointRouteBuilder MapSweepsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/sweeps").WithTags("Sweeps");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapPost("/{id:guid}/cancel", CancelAsync).RetriedOnConflict<TrainingDbContext>();
        return app;
    }

    /// <summary>
    /// Checks the whole sweep first (its space, then every run it makes, as POST /api/runs would), then creates the
    /// sweep and all its runs in one transaction: a sweep is created whole or not at all.
    /// </summary>
    private static async Task<Results<Accepted<SweepResponse>, ProblemHttpResult>> CreateAsync(HttpContext http,
        TrainingDbContext db, RunCreation creation, ModelRegistry registry, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<CreateSweepRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors();
        errors.Require(body!.DatasetId is { } d && d != Guid.Empty, "datasetId", "is required.");
        errors.Require(body.Base is not null, "base",
            "is required: the run request every run of the sweep starts from (as POST /api/runs takes it).");
        errors.Require(body.Base?["datasetId"] is null, "base.datasetId",
            "goes at the top of the sweep request, not in base.");
        errors.Require(body.Grid is null != (body.Random is null), "grid",
            "give either \"grid\" (every combination) or \"random\" (maxRuns draws), not both.");
        errors.Require(body.Objective is null or Sweep.ValidationLoss, "objective",
            $"must be \"{Sweep.ValidationLoss}\" (lower is better).");
        errors.Require(body.MaxRuns is null or (>= 1 and <= SweepSpace.MaxRuns), "maxRuns",
            $"must be between 1 and {SweepSpace.MaxRuns}.");
        errors.Require(body.Random is null || body.MaxRuns is not null, "maxRuns",
            "is required for a random search: how many runs to draw.");
        var alias = PromoteAlias(body.RegisterBest, errors);
        var name = body.Name
            ?? (body.Base?["name"] is JsonValue n && n.GetValueKind() == System.Text.Json.JsonValueKind.String
            ? n.GetValue<string>() : null);
        errors.Require(!string.IsNullOrEmpty(name), "name",
            "is required (here or in base): the runs' name, which their versions are registered under.");
        if (!errors.IsValid)
            return Invalid(errors);

        var (spaceField, random) = body.Grid is not null ? ("grid", false) : ("random", true);
        var parameters = SweepSpace.Parse((body.Grid ?? body.Random)!, spaceField, random, errors);
        if (!errors.IsValid)
            return Invalid(errors);
        var maxRuns = body.MaxRuns ?? SweepSpace.MaxRuns;
        var combinations = SweepSpace.GridSize(parameters);
        if (!random && combinations > maxRuns)
            errors.Add(body.MaxRuns is null ? "grid" : "maxRuns",
                $"the grid makes {combinations} runs, more than {maxRuns}: narrow the grid, or draw maxRuns of it " +
                $"with \"random\".");
        if (random && parameters.All(p => p.Values is not null) && combinations < maxRuns)
            errors.Add("maxRuns",
                $"asks for {maxRuns} distinct draws from lists that hold {combinations} combinations.");
        if (!errors.IsValid)
            return Invalid(errors);
        var seed = random ? body.Seed ?? System.Random.Shared.Next() : (int?)null;
        var assignments = random ? SweepSpace.Draw(parameters, maxRuns, seed!.Value) : SweepSpace.Grid(parameters);

        var prepared = new List<PreparedRun>();
        foreach (var (assignment, index) in assignments.Select((a, i) => (a, i)))
        {
            var request = SweepSpace.Apply(body.Base!, assignment);
            request["datasetId"] = body.DatasetId!.Value.ToString();
            request["name"] = name;
            var (run, refused) = await creation.PrepareAsync(request, http.Request, cancellationToken);
            if (refused is not null)
                return ForRun(refused, index, assignments.Count, assignment, spaceField);
            prepared.Add(run!);
        }

        var space = new JsonObject(parameters.Select(p => KeyValuePair.Create(p.Path, (JsonNode?)(p.Values is { } v
            ? new JsonArray([.. v.Select(x => x.DeepClone())])
            : new JsonObject
            {
                ["min"] = p.Range!.Min,
                ["max"] = p.Range.Max,
                ["scale"] = p.Range.Log ? "log"
            : "linear"
            }))));
        var caller = http.Caller();
        var owner = caller.AsOwner();
        var nameField = body.Name is null ? "base.name" : "name";
        if (await registry.RefuseNameAsync(name!, caller, nameField, cancellationToken) is { } taken)
            return taken;
        var sweep = Sweep.Create(Guid.NewGuid(), name!, body.DatasetId!.Value, spaceField, space.ToJsonString(), seed,
            prepared.Count,
            body.Objective ?? Sweep.ValidationLoss, alias, owner);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Sweeps.Add(sweep);
        var runs = new List<Run>();
        foreach (var (run, index) in prepared.Select((r, i) => (r, i)))
        {
            var (added, rejected) = await creation.AddAsync(run, owner, sweep.Id, cancellationToken);
            if (rejected is not null)
                return ForRun(rejected, index, prepared.Count, assignments[index], spaceField);
            runs.Add(added!);
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Accepted($"/api/sweeps/{sweep.Id}", SweepResponse.From(sweep, runs));
    }

    /// <summary>registerBest: absent, null or false (none), true ("best"), or {"alias": "name"}.</summary>
    private static string? PromoteAlias(JsonNode? registerBest, ValidationErrors errors)
    {
        const string Default = "best";
        switch (registerBest?.GetValueKind())
        {
            case null or System.Text.Json.JsonValueKind.False or System.Text.Json.JsonValueKind.Null:
                return null;
            case System.Text.Json.JsonValueKind.True:
                return Default;
            case System.Text.Json.JsonValueKind.Object when registerBest.AsObject().All(p => p.Key == "alias"):
                var alias = registerBest["alias"] is JsonValue v
                && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>()
                    : registerBest["alias"] is null ? Default : null;
                errors.Require(ModelAliases.IsValid(alias), "registerBest.alias",
                    "must be 1-40 lower-case letters, digits, '_' or '-', starting with a letter, and not 'latest'.");
                return alias;
            default:
                errors.Add("registerBest", "must be true, false, or {\"alias\": \"name\"}.");
                return null;
        }
    }

    /// <summary>
    /// A refusal of one of the sweep's runs, said of the sweep: a field a swept parameter set is named in the search
    /// space ("grid.training.learningRate"), any other in base ("base.model.nHead"); the detail names the run's values.
    /// </summary>
    private static ProblemHttpResult ForRun(ProblemHttpResult refusal, int index, int count, IReadOnlyDictionary<string,
        JsonNode> assignment, string spaceField)
    {
        var details = refusal.ProblemDetails;
        var which = $"Run {index + 1} of {count} " +
            $"({string.Join(", ", assignment.Select(a => $"{a.Key}={a.Value.ToJsonString()}"))})";
        if (details is HttpValidationProblemDetails validation)
        {
            var errors = validation.Errors.ToDictionary(
                e => assignment.Keys.FirstOrDefault(k =>
                k.Equals(e.Key, StringComparison.OrdinalIgnoreCase)) is { } swept ? $"{spaceField}.{swept}"
                    : e.Key == "datasetId" ? e.Key : $"base.{e.Key}",
                e => e.Value.Select(m => $"{m} ({which})").ToArray());
            return Problems.Invalid(errors, title: "The sweep is invalid.",
                detail: $"{which} is invalid; nothing was created.");
        }
        return TypedResults.Problem(statusCode: details.Status, title: details.Title,
            detail: $"{which}: {details.Detail} Nothing was created.",
            extensions: details.Extensions);
    }

    private static ProblemHttpResult Invalid(ValidationErrors errors) => Problems.Invalid(errors,
        "The sweep is invalid.");

    /// <summary>Sweeps, newest first, a page at a time; filtered by dataset, state and owner. Without their runs: GET
    /// one for those.</summary>
    private static async Task<Results<Ok<Page<SweepResponse>>, ProblemHttpResult>> ListAsync(HttpContext http,
        TrainingDbContext db, Guid? datasetId, string? state, string? owner, int? limit, string? cursor,
        CancellationToken cancellationToken)
    {
        var (take, after, errors) = Pages.Read<CreatedPosition>(limit, cursor);
        SweepState? parsed = null;
        if (!string.IsNullOrEmpty(state))
        {
            if (Enum.TryParse<SweepState>(state, ignoreCase: true, out var s))
                parsed = s;
            else
                errors.Add("state", $"must be one of {string.Join(", ", Enum.GetNames<SweepState>())}.");
        }
        if (!errors.IsValid)
            return Pages.Invalid(errors);
        var readable = await db.ReadableSweepsAsync(http.Caller(), cancellationToken);
        var query = readable.AsNoTracking().OwnedBy(OwnerFilter.Parse(owner, http.Caller()));
        if (datasetId is { } d)
            query = query.Where(x => x.DatasetId == d);
        if (parsed is { } p)
            query = query.Where(x => x.State == p);
        return TypedResults.Ok(await query.NewestFirstPageAsync(take, after, SweepResponse.Summary, cancellationToken));
    }

    private static async Task<Results<Ok<SweepResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http,
        TrainingDbContext db,
        CancellationToken cancellationToken)
    {
        var readable = await db.ReadableSweepsAsync(http.Caller(), cancellationToken);
        var sweep = await readable.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (sweep is null)
            return SweepNotFound(id);
        var runs = await db.LiveRuns.AsNoTracking().Where(r => r.SweepId == id).OrderBy(r => r.CreatedAt).ThenBy(r =>
            r.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(SweepResponse.From(sweep, runs));
    }

    /// <summary>
    /// By its owner or an admin: every run of the sweep not yet ended is cancelled (queued ones now, training ones at
    /// their next step; one being evaluated finishes). The sweep ends Cancelled once they all have.
    /// </summary>
    private static async Task<Results<Accepted<SweepResponse>, ProblemHttpResult>> CancelAsync(Guid id,
        HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        // The sweep's lock, which the monitor ending sweeps takes too: a sweep is not cancelled as it ends.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockAsync(id, cancellationToken);
        var readable = await db.ReadableSweepsAsync(http.Caller(), cancellationToken);
        var sweep = await readable
            .FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (sweep is null)
            return SweepNotFound(id);
        if (!http.Caller().MayChange(sweep.OwnerId))
            return AccessProblems.NotOwner("sweep");
        try
        {
            sweep.RequestCancel();
        }
        catch (SweepStateException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "The sweep cannot be cancelled.",
                detail: ex.Message);
        }
        var runs = await db.LiveRuns.Where(r => r.SweepId == id).OrderBy(r => r.CreatedAt).ThenBy(r =>
            r.Id).ToListAsync(cancellationToken);
        foreach (var run in runs.Where(r => !r.IsFinished && r.State != RunState.Evaluating && !r.CancelRequested))
            run.RequestCancel();
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Accepted($"/api/sweeps/{id}", SweepResponse.From(sweep, runs));
    }

    private static ProblemHttpResult SweepNotFound(Guid id) =>
        Problems.NotFound("Sweep not found.", $"No sweep has id {id}.");
}
