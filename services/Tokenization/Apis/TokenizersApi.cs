using Microsoft.EntityFrameworkCore;
using Platform.Storage;
using Tokenization.Data;

namespace Tokenization.Apis;

public sealed record TokenizerResponse(
    Guid Id, Guid DatasetId, string DatasetName, string Kind, int VocabSize, string TokenDType,
    long TrainTokens, long ValidationTokens, double ValidationTokensPerByte, long BuildMilliseconds, DateTimeOffset CreatedAt)
{
    public static TokenizerResponse From(TokenizerRecord t) => new(
        t.Id, t.DatasetId, t.DatasetName, t.Kind, t.VocabSize, t.TokenDType, t.TrainTokens, t.ValidationTokens,
        t.ValidationBytes == 0 ? 0 : (double)t.ValidationTokens / t.ValidationBytes, t.BuildMilliseconds, t.CreatedAt);
}

public static class TokenizersApi
{
    public static IEndpointRouteBuilder MapTokenizersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/tokenizers").WithTags("Tokenizers");
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapGet("/{id:guid}/file", GetFileAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(TokenizationDbContext db, Guid? datasetId, CancellationToken cancellationToken)
    {
        var query = db.Tokenizers.AsNoTracking();
        if (datasetId is { } d)
            query = query.Where(t => t.DatasetId == d);
        var list = await query.OrderByDescending(t => t.CreatedAt).Take(1000).ToListAsync(cancellationToken);
        return Results.Ok(list.Select(TokenizerResponse.From));
    }

    private static async Task<IResult> GetAsync(Guid id, TokenizationDbContext db, CancellationToken cancellationToken) =>
        await db.Tokenizers.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken) is { } t
            ? Results.Ok(TokenizerResponse.From(t))
            : NotFound(id);

    private static async Task<IResult> GetFileAsync(Guid id, TokenizationDbContext db, ArtifactStore store, CancellationToken cancellationToken) =>
        await db.Tokenizers.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken) is { } t
            ? Results.File(store.PathOf(t.TokenizerKey), "application/json", "tokenizer.json")
            : NotFound(id);

    private static IResult NotFound(Guid id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Tokenizer not found.", detail: $"No tokenizer has id {id}.");
}
