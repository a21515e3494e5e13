using Evaluation.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;

namespace Evaluation.Apis;

/// <summary>Evaluate a registered version on a dataset: "name" (latest version), "name/versions/N" or
/// "name@alias".</summary>
public sealed record EvaluationRequest(string? Model, Guid? DatasetId);

public static class EvaluationsApi
{
    public static IEndpointRouteBuilder MapEvaluationsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/evaluations").WithTags("Evaluations");
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapPost("/", RequestAsync);
        return app;
    }

    /// <summary>Evaluations, newest first, a page at a time (limit, cursor); by run, model name and dataset.</summary>
    private static async Task<Results<Ok<Page<EvaluationRecord>>, ProblemHttpResult>> ListAsync(HttpContext http,
        EvaluationDbContext db, Guid? runId, string? model,
        Guid? datasetId, int? limit, string? cursor,
        CancellationToken cancellationToken)
    {
        var (take, after, errors) = Pages.Read<CreatedPosition>(limit, cursor);
        if (!errors.IsValid)
            return Pages.Invalid(errors);
        var query = db.Evaluations.AsNoTracking();
        if (await db.ReadableByAsync(http.Caller(), cancellationToken) is { } readable)
            query = query.Where(e => e.Lineage != null && e.Lineage.All(d => readable.Contains(d)));
        if (runId is { } r)
            query = query.Where(e => e.RunId == r);
        if (!string.IsNullOrEmpty(model))
            query = query.Where(e => e.ModelName == model);
        if (datasetId is { } d)
            query = query.Where(e => e.DatasetId == d);
        return TypedResults.Ok(await query.NewestFirstPageAsync(take, after, e => e, cancellationToken));
    }

    /// <summary>An evaluation shows text and figures of the datasets behind it: only their readers see it.</summary>
    private static async Task<Results<Ok<EvaluationRecord>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http,
        EvaluationDbContext db, CancellationToken cancellationToken) =>
        await db.Evaluations.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, cancellationToken) is { } evaluation
        && await db.MayReadAsync(http.Caller(), evaluation.Lineage, cancellationToken)
            ? TypedResults.Ok(evaluation)
            : Problems.NotFound("Evaluation not found.", $"No evaluation has id {id}.");

    /// <summary>
    /// Queues an evaluation of any registered version on any dataset of the family it was trained for (text for a GPT,
    /// pairs for an encoder-decoder), its validation split encoded with the version's own tokenizer. Whoever may read
    /// both
    /// the version and the dataset may ask; the others get 404. 202 with the evaluation, then poll it.
    /// </summary>
    private static async Task<Results<Accepted<EvaluationRecord>, ProblemHttpResult>> RequestAsync(HttpContext http,
        EvaluationDbContext db, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<EvaluationRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors();
        var reference = ModelReference.Parse(body!.Model);
        errors.Require(reference is not null, "model", $"must be {ModelReference.Forms}.");
        errors.Require(body.DatasetId is { } given && given != Guid.Empty, "datasetId", "is required.");
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The evaluation request is invalid.");

        var caller = http.Caller();
        var version = await ProjectionLag.SettleAsync(async ct =>
        {
            var versions = db.ModelVersions.AsNoTracking().Where(v => v.Name == reference!.Name);
            if (await db.VersionOfAsync(reference!, ct) is { } number)
                versions = versions.Where(v => v.Version == number);
            var found = await versions.OrderByDescending(v => v.Version).FirstOrDefaultAsync(ct);
            return found is not null && await db.MayReadAsync(caller, found.Lineage, ct) ? found : null;
        }, cancellationToken);
        if (version is null)
            return Problems.NotFound("Model not found.", reference!.NotFoundDetail);
        var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == body.DatasetId && !d.Deleted,
            cancellationToken);
        if (dataset is null || !await db.MayReadAsync(caller, dataset.Id, cancellationToken))
            return Problems.NotFound("Dataset not found.", $"No dataset has id {body.DatasetId}.");
        if (!DatasetFormats.Trains(version.Architecture, dataset.Format))
            return Problems.Invalid("datasetId", $"holds {dataset.Format}; {version.Name} v{version.Version} is a " +
                $"{version.Architecture} model, which is evaluated on " +
                $"{DatasetFormats.TrainedBy(version.Architecture)}.",
                "The dataset does not suit the model.");

        var record = EvaluationRecord.Requested(version, dataset, caller.KeyId, DateTimeOffset.UtcNow);
        db.Evaluations.Add(record);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Accepted($"/api/evaluations/{record.Id}", record);
    }
}
