using Evaluation.Data;
using Microsoft.EntityFrameworkCore;

namespace Evaluation.Apis;

public static class EvaluationsApi
{
    public static IEndpointRouteBuilder MapEvaluationsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/evaluations").WithTags("Evaluations");
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(EvaluationDbContext db, Guid? runId, string? model, CancellationToken cancellationToken)
    {
        var query = db.Evaluations.AsNoTracking();
        if (runId is { } r)
            query = query.Where(e => e.RunId == r);
        if (!string.IsNullOrEmpty(model))
            query = query.Where(e => e.ModelName == model);
        return Results.Ok(await query.OrderByDescending(e => e.CreatedAt).Take(1000).ToListAsync(cancellationToken));
    }

    private static async Task<IResult> GetAsync(Guid id, EvaluationDbContext db, CancellationToken cancellationToken) =>
        await db.Evaluations.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, cancellationToken) is { } evaluation
            ? Results.Ok(evaluation)
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Evaluation not found.", detail: $"No evaluation has id {id}.");
}
