using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ML;
using Platform.ServiceDefaults.Security;
using Platform.Storage;
using Training.Data;

using Platform.ServiceDefaults;

namespace Training.Apis;

/// <summary>Word vectors (POST /api/vectors) that runs may initialise their embedding from.</summary>
public static class VectorsApi
{
    public static IEndpointRouteBuilder MapVectorsApi(this IEndpointRouteBuilder app)
    {
        var limits = app.ServiceProvider.GetRequiredService<IOptions<VectorsOptions>>().Value;
        var vectors = app.MapGroup("/api/vectors").WithTags("Vectors");
        vectors.MapPost("/",
            UploadVectorsAsync).WithMetadata(new RequestSizeLimitAttribute(limits.MaxVectorsBytes
            + (1 << 20))).DisableAntiforgery();
        vectors.MapGet("/", ListVectorsAsync);
        vectors.MapGet("/{id:guid}", GetVectorsAsync);
        return app;
    }

    private static ProblemHttpResult Invalid(string field, params string[] messages) =>
        Problems.Invalid(new Dictionary<string, string[]> { [field] = messages },
        title: "The vectors file is invalid.");

    /// <summary>Stores a word2vec/GloVe text file after reading it through once (dimension, word count, and every line
    /// checked).</summary>
    private static async Task<Results<Created<VectorsResponse>, ProblemHttpResult>> UploadVectorsAsync(
        HttpContext http, TrainingDbContext db, ArtifactStore store, IOptions<VectorsOptions> options,
        CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxVectorsBytes;
        var (form, problem) = await MultipartUpload.ReadFormAsync(http.Request, limit, cancellationToken);
        if (problem is not null)
            return problem;
        var file = form!.Files.GetFile("file");
        if (file is not { Length: > 0 })
            return Invalid("file", "is required: word vectors in word2vec or GloVe text format.");
        if (file.Length > limit)
            return Invalid("file", $"must be at most {limit:N0} bytes.");
        var name = form["name"].ToString().Trim() is { Length: > 0 } n ? n
            : Path.GetFileNameWithoutExtension(file.FileName);
        if (name.Length > 128)
            return Invalid("name", "must be at most 128 characters.");
        var id = Guid.NewGuid();
        var key = $"{VectorsFile.PrefixOf(id)}/vectors.txt";
        await store.WriteAsync(key, s => file.CopyToAsync(s, cancellationToken));
        WordVectors vectors;
        try
        {
            vectors = await Task.Run(() =>
            {
                using var reader = new StreamReader(store.OpenRead(key), new System.Text.UTF8Encoding(false, true));
                return WordVectors.Read(reader);
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or System.Text.DecoderFallbackException)
        {
            store.DeletePrefix(VectorsFile.PrefixOf(id));
            return Invalid("file", ex.Message);
        }
        var owner = http.Caller().AsOwner();
        var record = new VectorsFile
        {
            Id = id,
            Name = name,
            OwnerId = owner?.Id,
            OwnerName = owner?.Name,
            Key = key,
            Dimension = vectors.Dimension,
            Words = vectors.Vectors.Count,
            Bytes = file.Length,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        db.Vectors.Add(record);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch
        {
            // Not recorded: the stored file goes too, so none outlives the record that would have owned it.
            store.DeletePrefix(VectorsFile.PrefixOf(id));
            throw;
        }
        return TypedResults.Created($"/api/vectors/{id}", VectorsResponse.From(record));
    }

    /// <summary>Word-vector files, newest first, a page at a time (limit, cursor).</summary>
    private static async Task<Results<Ok<Page<VectorsResponse>>, ProblemHttpResult>> ListVectorsAsync(
        TrainingDbContext db, int? limit, string? cursor,
        CancellationToken cancellationToken)
    {
        var (take, after, errors) = Pages.Read<CreatedPosition>(limit, cursor);
        return errors.IsValid
            ? TypedResults.Ok(await db.Vectors.AsNoTracking().NewestFirstPageAsync(take, after, VectorsResponse.From,
            cancellationToken))
            : Pages.Invalid(errors);
    }

    private static async Task<Results<Ok<VectorsResponse>, ProblemHttpResult>> GetVectorsAsync(Guid id,
        TrainingDbContext db, CancellationToken cancellationToken) =>
        await db.Vectors.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id, cancellationToken) is { } v
            ? TypedResults.Ok(VectorsResponse.From(v))
            : Problems.NotFound("Vectors not found.", $"No vectors file {id}.");
}

public sealed record VectorsResponse(Guid Id, string Name, Owner? Owner, int Dimension, int Words, long Bytes,
    DateTimeOffset CreatedAt)
{
    public static VectorsResponse From(VectorsFile v) =>
        new(v.Id, v.Name, v.OwnerOf(), v.Dimension, v.Words, v.Bytes, v.CreatedAt);
}
