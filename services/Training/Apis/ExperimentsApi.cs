using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Security;
using Training.Data;

namespace Training.Apis;

public sealed record ExperimentRequest(string? Name, string? Description);

/// <summary>An experiment, with how many of its runs the caller may read.</summary>
public sealed record ExperimentResponse(Guid Id, string Name, string? Description, Owner? Owner, int Runs,
    DateTimeOffset CreatedAt);

/// <summary>Experiments (/api/experiments): named groups of runs, the platform's and those users' scripts
/// log.</summary>
public static class ExperimentsApi
{
    public static IEndpointRouteBuilder MapExperimentsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/experiments").WithTags("Experiments");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{name}", GetAsync);
        return app;
    }

    /// <summary>201 with the experiment; 409 when the name is taken (by anyone: names are the platform's).</summary>
    private static async Task<Results<Created<ExperimentResponse>, ProblemHttpResult>> CreateAsync(HttpContext http,
        TrainingDbContext db, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<ExperimentRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors()
            .Require(RunSpecValidator.IsModelName(body!.Name), "name", RunSpecValidator.ModelNameRule)
            .Require(body.Description is null || body.Description.Length <= 4000, "description",
                "must be at most 4,000 characters.");
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The experiment is invalid.");
        if (await db.Experiments.AnyAsync(e => e.Name == body.Name, cancellationToken))
            return NameTaken(body.Name!);
        var experiment = Experiment.Create(body.Name!, body.Description, http.Caller().AsOwner());
        db.Experiments.Add(experiment);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is Npgsql.PostgresException
        {
            SqlState: Npgsql.PostgresErrorCodes.UniqueViolation
        })
        {
            return NameTaken(body.Name!);
        }
        return TypedResults.Created($"/api/experiments/{experiment.Name}", From(experiment, 0));
    }

    private static ProblemHttpResult NameTaken(string name) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The name is taken.",
            detail: $"An experiment named '{name}' exists.",
            extensions: new Dictionary<string, object?> { ["field"] = "name" });

    private static ExperimentResponse From(Experiment e, int runs) =>
        new(e.Id, e.Name, e.Description, e.OwnerOf(), runs, e.CreatedAt);

    /// <summary>Every experiment by name, each with the number of its runs the caller may read.</summary>
    private static async Task<Ok<IReadOnlyList<ExperimentResponse>>> ListAsync(HttpContext http,
        TrainingDbContext db, CancellationToken cancellationToken)
    {
        var readable = await db.ReadableRunsAsync(http.Caller(), cancellationToken);
        var counts = await readable.Where(r => r.ExperimentId != null).GroupBy(r => r.ExperimentId!.Value)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count,
                cancellationToken);
        var experiments = await db.Experiments.AsNoTracking().OrderBy(e => e.Name).ToListAsync(cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ExperimentResponse>>(
            [.. experiments.Select(e => From(e, counts.GetValueOrDefault(e.Id)))]);
    }

    private static async Task<Results<Ok<ExperimentResponse>, ProblemHttpResult>> GetAsync(string name,
        HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var experiment = await db.Experiments.AsNoTracking().FirstOrDefaultAsync(e => e.Name == name,
            cancellationToken);
        if (experiment is null)
            return Problems.NotFound("Experiment not found.", $"No experiment is named '{name}'.");
        var readable = await db.ReadableRunsAsync(http.Caller(), cancellationToken);
        var runs = await readable.CountAsync(r => r.ExperimentId == experiment.Id, cancellationToken);
        return TypedResults.Ok(From(experiment, runs));
    }
}
