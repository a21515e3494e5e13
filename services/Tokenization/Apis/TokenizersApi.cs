using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Security;
using Platform.Storage;
using Platform.Tokenizers;
using Platform.Tokenizers.Kinds;
using Tokenization.Data;

namespace Tokenization.Apis;

public sealed record TokenizerResponse(
    Guid Id, Guid DatasetId, string DatasetName, Owner? Owner, string Kind, int VocabSize, string TokenDType,
    long TrainTokens, long ValidationTokens, double ValidationTokensPerByte, long BuildMilliseconds,
    DateTimeOffset CreatedAt)
{
    public static TokenizerResponse From(TokenizerRecord t) => new(
        t.Id, t.DatasetId, t.DatasetName, t.OwnerOf(),
        t.Kind, t.VocabSize, t.TokenDType, t.TrainTokens, t.ValidationTokens,
        t.ValidationBytes == 0 ? 0 : (double)t.ValidationTokens / t.ValidationBytes, t.BuildMilliseconds, t.CreatedAt);
}

public sealed record EncodeRequest(string? Text);
public sealed record TokenizerKindResponse(string Name, string Description);
public sealed record DecodeRequest(int[]? Ids);
public sealed record EncodeResponse(int[] Ids, int Count, int Bytes);
public sealed record DecodeResponse(string Text);

public static class TokenizersApi
{
    public static IEndpointRouteBuilder MapTokenizersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/tokenizers").WithTags("Tokenizers");
        group.MapGet("/", ListAsync);
        group.MapGet("/kinds", ListKinds);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapGet("/{id:guid}/file", GetFileAsync);
        group.MapPost("/{id:guid}/encode", EncodeAsync);
        group.MapPost("/{id:guid}/decode", DecodeAsync);
        return app;
    }

    /// <summary>The kinds of tokenizer an upload may ask for, with a line on each.</summary>
    private static Ok<TokenizerKindResponse[]> ListKinds() =>
        TypedResults.Ok(TokenizerKindRegistry.All.Select(k => new TokenizerKindResponse(k.Name, k.Description))
            .ToArray());

    /// <summary>Tokenizers, newest first, a page at a time (limit, cursor); by dataset, and by owner ("me", a key id or
    /// a key name).</summary>
    private static async Task<Results<Ok<Page<TokenizerResponse>>, ProblemHttpResult>> ListAsync(HttpContext http,
        TokenizationDbContext db, Guid? datasetId, string? owner, int? limit, string? cursor,
        CancellationToken cancellationToken)
    {
        var (take, after, errors) = Pages.Read<CreatedPosition>(limit, cursor);
        if (!errors.IsValid)
            return Pages.Invalid(errors);
        var caller = http.Caller();
        var query = db.Tokenizers.AsNoTracking().OwnedBy(OwnerFilter.Parse(owner, caller));
        if (await db.ReadableByAsync(caller, cancellationToken) is { } readable)
            query = query.Where(t => readable.Contains(t.DatasetId));
        if (datasetId is { } d)
            query = query.Where(t => t.DatasetId == d);
        return TypedResults.Ok(await query.NewestFirstPageAsync(take, after, TokenizerResponse.From,
            cancellationToken));
    }

    /// <summary>
    /// The tokenizer when the caller may read its dataset: a tokenizer learned from private text is as unknown to
    /// other keys as one that never existed.
    /// </summary>
    private static async Task<TokenizerRecord?> FindReadableAsync(Guid id, HttpContext http, TokenizationDbContext db,
        CancellationToken cancellationToken) =>
        await db.Tokenizers.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken) is { } t
        && await db.MayReadAsync(http.Caller(), t.DatasetId, cancellationToken)
            ? t
            : null;

    private static async Task<Results<Ok<TokenizerResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http,
        TokenizationDbContext db, CancellationToken cancellationToken) =>
        await FindReadableAsync(id, http, db, cancellationToken) is { } t
            ? TypedResults.Ok(TokenizerResponse.From(t))
            : NotFound(id);

    private static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> GetFileAsync(Guid id,
        HttpContext http, TokenizationDbContext db, ArtifactStore store, CancellationToken cancellationToken) =>
        await FindReadableAsync(id, http, db, cancellationToken) is { } t
            ? TypedResults.PhysicalFile(store.PathOf(t.TokenizerKey), "application/json", "tokenizer.json")
            : NotFound(id);

    private static async Task<Results<Ok<EncodeResponse>, ProblemHttpResult>> EncodeAsync(Guid id,
        HttpRequest request, TokenizationDbContext db,
        TokenizerCache cache, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<EncodeRequest>(request, cancellationToken);
        if (problem is not null)
            return problem;
        if (body!.Text is null)
            return Invalid("text", "is required.");
        if (await FindReadableAsync(id, request.HttpContext, db, cancellationToken) is not { } record)
            return NotFound(id);
        try
        {
            var tokenizer = cache.Get(record);
            // A client that hangs up stops the work its text would still cost (the CPU-bound encoding runs off the
            // request's thread, and checks the token between pieces).
            var ids = await Task.Run(() => tokenizer.Encode(body.Text, cancellationToken), cancellationToken);
            return TypedResults.Ok(new EncodeResponse(ids, ids.Length,
                System.Text.Encoding.UTF8.GetByteCount(body.Text)));
        }
        catch (Exception ex) when (ex is UnknownTokenException or ArgumentException)
        {
            return Invalid("text", ex.Message);
        }
    }

    private static async Task<Results<Ok<DecodeResponse>, ProblemHttpResult>> DecodeAsync(Guid id,
        HttpRequest request, TokenizationDbContext db,
        TokenizerCache cache, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<DecodeRequest>(request, cancellationToken);
        if (problem is not null)
            return problem;
        if (body!.Ids is null)
            return Invalid("ids", "is required.");
        if (await FindReadableAsync(id, request.HttpContext, db, cancellationToken) is not { } record)
            return NotFound(id);
        try
        {
            return TypedResults.Ok(new DecodeResponse(cache.Get(record).Decode(body.Ids)));
        }
        catch (ArgumentOutOfRangeException ex)
        {
            return Invalid("ids", ex.Message.Split(" (Parameter")[0]);
        }
    }

    private static ProblemHttpResult Invalid(string field, string message) => Problems.Invalid(field, message);

    private static ProblemHttpResult NotFound(Guid id) =>
        Problems.NotFound("Tokenizer not found.", $"No tokenizer has id {id}.");
}
