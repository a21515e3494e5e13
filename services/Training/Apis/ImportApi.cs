using Platform.ServiceDefaults.Http;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ML;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Security;
using Platform.Storage;
using Platform.Tokenizers;
using Training.Data;

namespace Training.Apis;

/// <summary>
/// Bring your own: a model's weights (POST /api/models/import) registered as a version like any trained one, and word
/// vectors (POST /api/vectors) that runs may initialise their embedding from.
/// </summary>
public static class ImportApi
{
    public static IEndpointRouteBuilder MapImportApi(this IEndpointRouteBuilder app)
    {
        var limits = app.ServiceProvider.GetRequiredService<IOptions<ImportOptions>>().Value;
        // Kestrel's own limit sits just above ours so the multipart framing and the small parts fit.
        app.MapPost("/api/models/import", ImportAsync).WithTags("Models")
            .WithMetadata(new RequestSizeLimitAttribute(limits.MaxWeightsBytes + (16 << 20))).DisableAntiforgery();
        app.MapDelete("/api/models/{name}/versions/{version:int}", DeleteImportedAsync).WithTags("Models");
        var vectors = app.MapGroup("/api/vectors").WithTags("Vectors");
        vectors.MapPost("/", UploadVectorsAsync).WithMetadata(new RequestSizeLimitAttribute(limits.MaxVectorsBytes + (1 << 20))).DisableAntiforgery();
        vectors.MapGet("/", ListVectorsAsync);
        vectors.MapGet("/{id:guid}", GetVectorsAsync);
        return app;
    }

    private static IResult Invalid(string field, params string[] messages) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = messages }, title: "The import is invalid.");

    private static async Task<(IFormCollection? Form, IResult? Problem)> ReadFormAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
            return (null, Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type.",
                detail: "Send multipart/form-data."));
        try
        {
            return (await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = maxBytes + (16 << 20) }, cancellationToken), null);
        }
        catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException)
        {
            return (null, Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Upload too large.",
                detail: $"Files are limited to {maxBytes:N0} bytes."));
        }
    }

    /// <summary>
    /// Registers weights (the platform's export, nanoGPT's or Hugging Face GPT-2's safetensors layout) and their tokenizer
    /// as the next version of Name. Every missing, surplus or misshapen tensor is named in the 400; nothing is kept then.
    /// </summary>
    private static async Task<IResult> ImportAsync(HttpContext http, TrainingDbContext db, ArtifactStore store, IOptions<ImportOptions> options,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxWeightsBytes;
        var (form, problem) = await ReadFormAsync(http.Request, limit, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors();
        var name = form!["name"].ToString().Trim();
        errors.Require(RunSpecValidator.IsModelName(name), "name", "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit.");
        var weights = form.Files.GetFile("weights");
        errors.Require(weights is { Length: > 0 }, "weights", "is required: a .safetensors file.");
        errors.Require(weights is null || weights.Length <= limit, "weights", $"must be at most {limit:N0} bytes.");
        var tokenizerFile = form.Files.GetFile("tokenizer");
        errors.Require(tokenizerFile is { Length: > 0 }, "tokenizer", "is required: a tokenizer.json file.");
        JsonObject? config = null;
        var configText = form.Files.GetFile("config") is { } configFile ? await new StreamReader(configFile.OpenReadStream()).ReadToEndAsync(cancellationToken)
            : form["config"].ToString();
        if (!string.IsNullOrWhiteSpace(configText))
        {
            try
            {
                config = JsonNode.Parse(configText) as JsonObject;
                errors.Require(config is not null, "config", "must be a JSON object.");
            }
            catch (JsonException ex)
            {
                errors.Add("config", $"is not valid JSON: {ex.Message}");
            }
        }
        if (!errors.IsValid)
            return Results.ValidationProblem(errors.ToDictionary(), title: "The import is invalid.");

        var id = Guid.NewGuid();
        var prefix = $"imports/{id:N}";
        var (weightsKey, tokenizerKey, checkpointKey) = ($"{prefix}/weights.safetensors", $"{prefix}/tokenizer.json", $"{prefix}/checkpoint.bin");
        ImportedGpt imported;
        try
        {
            await store.WriteAsync(tokenizerKey, s => tokenizerFile!.CopyToAsync(s, cancellationToken));
            ITokenizer tokenizer;
            try
            {
                tokenizer = TokenizerFile.Load(store.PathOf(tokenizerKey));
            }
            catch (Exception ex) when (TokenizerFile.IsUnusable(ex))
            {
                store.DeletePrefix(prefix);
                return Invalid("tokenizer", ex.Message);
            }
            await store.WriteAsync(weightsKey, s => weights!.CopyToAsync(s, cancellationToken));
            try
            {
                imported = await Task.Run(() => GptImport.Import(store.PathOf(weightsKey), tokenizer.VocabSize, config), cancellationToken);
            }
            catch (ImportException ex)
            {
                store.DeletePrefix(prefix);
                return Invalid("weights", [.. ex.Problems]);
            }
            catch (InvalidDataException ex)
            {
                store.DeletePrefix(prefix);
                return Invalid("weights", ex.Message);
            }
            using (imported.Model)
                await store.WriteAsync(checkpointKey, s => { Checkpoint.Save(imported.Model, s); return Task.CompletedTask; });
            store.Delete(weightsKey);
        }
        catch
        {
            store.DeletePrefix(prefix);
            throw;
        }

        var owner = http.Caller().AsOwner();
        var sha = await store.Sha256Async(checkpointKey, cancellationToken);
        var next = 1 + (await db.ModelVersions.Where(v => v.Name == name).MaxAsync(v => (int?)v.Version, cancellationToken) ?? 0);
        var version = new ModelVersion
        {
            Id = Guid.NewGuid(), Name = name, Version = next, RunId = id, DatasetId = Guid.Empty, OwnerId = owner?.Id, OwnerName = owner?.Name,
            CheckpointKey = checkpointKey, CheckpointSha256 = sha, TokenizerKey = tokenizerKey, Architecture = Architectures.Gpt,
            ImportedFrom = imported.Layout, CreatedAt = DateTimeOffset.UtcNow,
        };
        db.ModelVersions.Add(version);
        db.PublishViaOutbox(new ModelVersionRegistered(name, next, id, checkpointKey, sha, tokenizerKey, null, version.CreatedAt, owner, Architectures.Gpt));
        await db.SaveChangesAsync(cancellationToken);
        loggers.CreateLogger(nameof(ImportApi)).LogInformation("Imported {Name} v{Version} ({Layout} layout)", name, next, imported.Layout);
        return Results.Created($"/api/models/{name}/versions/{next}", ModelVersionResponse.From(version));
    }

    /// <summary>An imported version is deleted here (a trained one goes with its run: DELETE /api/runs/{id}).</summary>
    private static async Task<IResult> DeleteImportedAsync(string name, int version, HttpContext http, TrainingDbContext db, ArtifactStore store,
        CancellationToken cancellationToken)
    {
        var v = await db.ModelVersions.FirstOrDefaultAsync(m => m.Name == name && m.Version == version, cancellationToken);
        if (v is null)
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Model not found.", detail: $"Model '{name}' has no version {version}.");
        if (!http.Caller().MayChange(v.OwnerId))
            return AccessProblems.NotOwner("model version");
        if (v.ImportedFrom is null)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "A run produced this version.",
                detail: $"Delete run {v.RunId} (DELETE /api/runs/{v.RunId}?cascade=true) to delete {name} v{version}.");
        if (await VersionDependents.RefuseDeletionAsync(db, [$"{name}/versions/{version}"], cancellationToken) is { } adapted)
            return adapted;
        db.ModelVersions.Remove(v);
        db.PublishViaOutbox(new ModelVersionDeleted(name, version, v.RunId, DateTimeOffset.UtcNow));
        await db.SaveChangesAsync(cancellationToken);
        store.DeletePrefix($"imports/{v.RunId:N}");
        return Results.NoContent();
    }

    /// <summary>Stores a word2vec/GloVe text file after reading it through once (dimension, word count, and every line checked).</summary>
    private static async Task<IResult> UploadVectorsAsync(HttpContext http, TrainingDbContext db, ArtifactStore store, IOptions<ImportOptions> options,
        CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxVectorsBytes;
        var (form, problem) = await ReadFormAsync(http.Request, limit, cancellationToken);
        if (problem is not null)
            return problem;
        var file = form!.Files.GetFile("file");
        if (file is not { Length: > 0 })
            return Invalid("file", "is required: word vectors in word2vec or GloVe text format.");
        if (file.Length > limit)
            return Invalid("file", $"must be at most {limit:N0} bytes.");
        var name = form["name"].ToString().Trim() is { Length: > 0 } n ? n : Path.GetFileNameWithoutExtension(file.FileName);
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
            Id = id, Name = name, OwnerId = owner?.Id, OwnerName = owner?.Name, Key = key, Dimension = vectors.Dimension, Words = vectors.Vectors.Count,
            Bytes = file.Length, CreatedAt = DateTimeOffset.UtcNow,
        };
        db.Vectors.Add(record);
        await db.SaveChangesAsync(cancellationToken);
        return Results.Created($"/api/vectors/{id}", VectorsResponse.From(record));
    }

    /// <summary>Word-vector files, newest first, a page at a time (limit, cursor).</summary>
    private static async Task<IResult> ListVectorsAsync(TrainingDbContext db, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var (take, after, errors) = Pages.Read<CreatedPosition>(limit, cursor);
        return errors.IsValid
            ? Results.Ok(await db.Vectors.AsNoTracking().NewestFirstPageAsync(take, after, VectorsResponse.From, cancellationToken))
            : Pages.Invalid(errors);
    }

    private static async Task<IResult> GetVectorsAsync(Guid id, TrainingDbContext db, CancellationToken cancellationToken) =>
        await db.Vectors.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id, cancellationToken) is { } v
            ? Results.Ok(VectorsResponse.From(v))
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Vectors not found.", detail: $"No vectors file {id}.");
}

public sealed record VectorsResponse(Guid Id, string Name, Owner? Owner, int Dimension, int Words, long Bytes, DateTimeOffset CreatedAt)
{
    public static VectorsResponse From(VectorsFile v) => new(v.Id, v.Name, v.OwnerOf(), v.Dimension, v.Words, v.Bytes, v.CreatedAt);
}
