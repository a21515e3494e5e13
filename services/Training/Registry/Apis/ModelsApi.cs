using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ML;
using Platform.ML.Gguf;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Security;
using Platform.Storage;
using Platform.Tokenizers;
using Training.Registry.Data;

namespace Training.Registry.Apis;

public sealed record ModelVersionResponse(
    string Name, int Version, Guid RunId, Guid DatasetId, Owner? Owner, [property: ArtifactKey] string CheckpointKey,
    string CheckpointSha256, [property: ArtifactKey] string TokenizerKey, EvaluationFigures? Evaluation, RunCost? Cost,
    string? Sample, DateTimeOffset CreatedAt, string Architecture, [property: ArtifactKey] string? SourceTokenizerKey,
    string? BaseModel, string? FineTuneMethod, string? ImportedFrom, double? ValidationLoss, string? Description,
    IReadOnlyList<string> Tags,
    IReadOnlyList<string> Aliases,
    string? ChatTemplate,
    string? Quantization,
    TrainingProvenance? TrainedOn)
{
    public static ModelVersionResponse From(ModelVersion v, IEnumerable<ModelAlias>? aliases = null) =>
        new(v.Name, v.Version, v.RunId, v.DatasetId, v.OwnerOf(),
        v.CheckpointKey, v.CheckpointSha256, v.TokenizerKey, v.Evaluation, v.Cost, v.Sample, v.CreatedAt,
        v.Architecture, v.SourceTokenizerKey,
        v.BaseModel, v.FineTuneMethod, v.ImportedFrom, v.ValidationLoss, v.Description, v.Tags,
        [.. (aliases ?? []).Where(a => a.Name == v.Name && a.Version == v.Version).Select(a =>
        a.Alias).Order(StringComparer.Ordinal)], v.ChatTemplate, v.Quantization, v.Provenance);
}

/// <summary>PATCH body for a version: a description, its tags and how it is served ("int8" or "none"); null leaves
/// one as it is.</summary>
public sealed record VersionPatch(string? Description, List<string>? Tags, string? Quantization = null);

/// <summary>A name with its latest version, its aliases (alias → version) and the versions the caller may
/// read.</summary>
public sealed record ModelResponse(string Name, int LatestVersion, IReadOnlyDictionary<string, int> Aliases,
    IEnumerable<ModelVersionResponse> Versions);

public sealed record ModelSummary(string Name, int LatestVersion, int Versions, DateTimeOffset UpdatedAt);

/// <summary>Where a page of models ended: names are unique and listed in order.</summary>
public sealed record ModelPosition(string Name);

public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/models").WithTags("Models");
        group.MapGet("/", ListAsync);
        group.MapGet("/{name}", GetModelAsync);
        group.MapGet("/{name}/versions/{version:int}", GetVersionAsync);
        group.MapGet("/{name}/versions/{version:int}/weights", GetWeightsAsync);
        group.MapGet("/{name}/versions/{version:int}/files/{file}", GetFileAsync);
        group.MapPatch("/{name}/versions/{version:int}", PatchVersionAsync);
        group.MapDelete("/{name}/versions/{version:int}", DeleteVersionAsync);
        return app;
    }

    /// <summary>
    /// Model names with their latest version, by name, a page at a time (limit, cursor); owner= ("me", a key id or a
    /// key name) counts only that owner's versions.
    /// </summary>
    private static async Task<Results<Ok<Page<ModelSummary>>, ProblemHttpResult>> ListAsync(HttpContext http,
        RegistryDbContext db, string? owner, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var (take, after, errors) = Pages.Read<ModelPosition>(limit, cursor);
        if (!errors.IsValid)
            return Pages.Invalid(errors);
        var readable = await db.ReadableVersionsAsync(http.Caller(), cancellationToken);
        var versions = readable.AsNoTracking().OwnedBy(OwnerFilter.Parse(owner, http.Caller()));
        if (after is { } p)
#pragma warning disable CA1309 // translated to SQL: the database's collation orders names, as the page's ORDER BY does
            versions = versions.Where(v => string.Compare(v.Name, p.Name) > 0);
#pragma warning restore CA1309
        var page = await versions.GroupBy(v => v.Name).OrderBy(g => g.Key)
            .Select(g => new ModelSummary(g.Key, g.Max(v => v.Version), g.Count(), g.Max(v => v.CreatedAt)))
            .PageAsync(take, m => new ModelPosition(m.Name), m => m, cancellationToken);
        return TypedResults.Ok(page);
    }

    /// <summary>A name with the versions the caller may read; none readable is 404, as for a name never
    /// registered.</summary>
    private static async Task<Results<Ok<ModelResponse>, ProblemHttpResult>> GetModelAsync(string name,
        HttpContext http, RegistryDbContext db, CancellationToken cancellationToken)
    {
        var readable = await db.ReadableVersionsAsync(http.Caller(), cancellationToken);
        var versions = await readable.AsNoTracking().Where(v => v.Name == name).OrderByDescending(v => v.Version)
            .ToListAsync(cancellationToken);
        var aliases = await db.ModelAliases.AsNoTracking().Where(a => a.Name == name).ToListAsync(cancellationToken);
        return versions.Count == 0
            ? NotFound(new ModelReference(name, null, null))
            : TypedResults.Ok(new ModelResponse(name, versions[0].Version,
                aliases.OrderBy(a => a.Alias, StringComparer.Ordinal).ToDictionary(a => a.Alias, a => a.Version),
                versions.Select(v => ModelVersionResponse.From(v, aliases))));
    }

    private static async Task<Results<Ok<ModelVersionResponse>, ProblemHttpResult>> GetVersionAsync(string name,
        int version, HttpContext http, RegistryDbContext db, CancellationToken cancellationToken)
    {
        var readable = await db.ReadableVersionsAsync(http.Caller(), cancellationToken);
        var v = await readable.AsNoTracking().FirstOrDefaultAsync(v => v.Name == name && v.Version == version,
            cancellationToken);
        if (v is null)
            return NotFound(new ModelReference(name, version, null));
        var aliases = await db.ModelAliases.AsNoTracking().Where(a => a.Name == name
            && a.Version == version).ToListAsync(cancellationToken);
        return TypedResults.Ok(ModelVersionResponse.From(v, aliases));
    }

    /// <summary>
    /// A file that loads the version's tokenizer in Hugging Face's libraries: tokenizer.json as it was trained or
    /// uploaded, and tokenizer_config.json with the version's chat template when it has one.
    /// </summary>
    private static async Task<Results<FileStreamHttpResult, ContentHttpResult, ProblemHttpResult>> GetFileAsync(
        string name, int version, string file, HttpContext http, RegistryDbContext db, ArtifactStore store,
        CancellationToken cancellationToken)
    {
        string[] files = ["tokenizer.json", "tokenizer_config.json"];
        if (!files.Contains(file))
            return Problems.NotFound("File not found.", $"A version's files are {string.Join(" and ", files)}.");
        var readable = await db.ReadableVersionsAsync(http.Caller(), cancellationToken);
        var v = await readable.AsNoTracking().FirstOrDefaultAsync(m => m.Name == name && m.Version == version,
            cancellationToken);
        if (v is null)
            return NotFound(new ModelReference(name, version, null));
        if (!store.Exists(v.TokenizerKey))
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Tokenizer unavailable.", detail: $"{name} v{version}'s tokenizer file is missing.");
        if (file == "tokenizer.json")
            return TypedResults.Stream(store.OpenRead(v.TokenizerKey), "application/json", file);
        await using var tokenizer = store.OpenRead(v.TokenizerKey);
        return TypedResults.Content(Platform.Tokenizers.HuggingFaceTokenizerConfig.Write(tokenizer, v.ChatTemplate),
            "application/json");
    }

    /// <summary>By the version's owner or an admin: sets its description and/or tags.</summary>
    private static async Task<Results<Ok<ModelVersionResponse>, ProblemHttpResult>> PatchVersionAsync(string name,
        int version, HttpContext http, RegistryDbContext db, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<VersionPatch>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = Annotations.Validate(body!.Tags, body.Description, "description");
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The version update is invalid.");
        if (QuantizationProblem(body.Quantization, "The version update is invalid.") is { } invalid)
            return invalid;
        var readable = await db.ReadableVersionsAsync(http.Caller(), cancellationToken);
        var v = await readable
            .FirstOrDefaultAsync(v => v.Name == name && v.Version == version, cancellationToken);
        if (v is null)
            return NotFound(new ModelReference(name, version, null));
        if (!http.Caller().MayChange(v.OwnerId))
            return AccessProblems.NotOwner("model version");
        if (body.Description is not null)
            v.Description = body.Description.Length == 0 ? null : body.Description;
        if (body.Tags is not null)
            v.Tags = [.. body.Tags.Distinct(StringComparer.Ordinal)];
        if (body.Quantization is { } quantization
            && SetQuantization(db, v, quantization, "The version update is invalid.") is { } refused)
            return refused;
        await db.SaveChangesAsync(cancellationToken);
        var aliases = await db.ModelAliases.AsNoTracking().Where(a => a.Name == name
            && a.Version == version).ToListAsync(cancellationToken);
        return TypedResults.Ok(ModelVersionResponse.From(v, aliases));
    }

    /// <summary>400 naming "quantization" unless it is null, "int8" or "none".</summary>
    internal static ProblemHttpResult? QuantizationProblem(string? quantization, string title) =>
        quantization is null or Quantizations.Int8 or Quantizations.None
            ? null
            : Problems.Invalid("quantization", $"must be '{Quantizations.Int8}' (decode with int8 weights) or " +
                $"'{Quantizations.None}' (as trained).", title);

    /// <summary>Sets how a tracked version is served and queues its event for the same commit; 400 naming
    /// "quantization" for a version that cannot be served so.</summary>
    internal static ProblemHttpResult? SetQuantization(RegistryDbContext db, ModelVersion v, string quantization,
        string title)
    {
        try
        {
            if (v.SetQuantization(quantization, DateTimeOffset.UtcNow) is { } changed)
                db.PublishViaOutbox(changed);
            return null;
        }
        catch (InvalidOperationException ex)
        {
            return Problems.Invalid("quantization", ex.Message, title);
        }
    }

    /// <summary>
    /// The version's weights, exported once from the verified checkpoint and kept beside it. format=safetensors (the
    /// default): a GPT under nanoGPT's names with a GPT-2-style config in the header metadata, an encoder-decoder under
    /// its own names with its config. format=gguf: a GPT with a BPE tokenizer as llama.cpp's "gpt2", its vocabulary,
    /// merges and chat template inside, in type=f32 (the default), f16 or q8_0. format=hf: a GPT as a zipped Hugging
    /// Face model folder (see <see cref="HuggingFaceFolder"/>). A LoRA version is exported merged into its (verified)
    /// base: a plain GPT any loader takes.
    /// </summary>
    private static async Task<Results<PhysicalFileHttpResult, PushStreamHttpResult, ProblemHttpResult>>
        GetWeightsAsync(string name, int version, string? format, string? type, HttpContext http, RegistryDbContext db,
        ArtifactStore store, CancellationToken cancellationToken)
    {
        format ??= "safetensors";
        if (format is not ("safetensors" or "gguf" or "hf"))
            return Problems.Invalid("format", "must be safetensors, gguf or hf.", "The export is invalid.");
        GgmlType? ggmlType = null;
        if (type is not null)
        {
            if (format != "gguf")
                return Problems.Invalid("type", "applies to format=gguf only.", "The export is invalid.");
            if (!GgufExport.Types.TryGetValue(type, out var parsed))
                return Problems.Invalid("type", $"must be one of {string.Join(", ", GgufExport.Types.Keys)}.",
                    "The export is invalid.");
            ggmlType = parsed;
        }
        var readable = await db.ReadableVersionsAsync(http.Caller(), cancellationToken);
        var v = await readable.AsNoTracking().FirstOrDefaultAsync(m => m.Name == name && m.Version == version,
            cancellationToken);
        if (v is null)
            return NotFound(new ModelReference(name, version, null));
        var key = format switch
        {
            "gguf" => v.GgufKey(type ?? "f32"),
            "hf" => v.HuggingFaceWeightsKey,
            _ => v.ExportKey,
        };
        if (!store.Exists(key))
        {
            var refusal = format switch
            {
                "gguf" => GgufRefusal(v, store),
                "hf" => HuggingFaceFolder.Refusal(v),
                _ => null,
            };
            if (refusal is not null)
                return Problems.Invalid("format", refusal, "The export is invalid.");
            if (await store.Sha256Async(v.CheckpointKey, cancellationToken) != v.CheckpointSha256)
                return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "Checkpoint corrupted.",
                    detail: $"The checkpoint of {name} v{version} no longer matches its sha256.");
            await Task.Run(() => store.WriteAsync(key, s =>
            {
                using var model = LoadedModel.LoadNetwork(store.PathOf(v.CheckpointKey), store.PathOf);
                switch (format)
                {
                    case "gguf":
                        GgufExport.Write((Gpt)model, (BpeTokenizer)TokenizerFile.Load(store.PathOf(v.TokenizerKey)),
                            ggmlType ?? GgmlType.F32, s, $"{name}-v{version}", v.ChatTemplate);
                        break;
                    case "hf":
                        HuggingFaceGpt2.WriteWeights((Gpt)model, s);
                        break;
                    default:
                        SafetensorsExport.Write(model, s);
                        break;
                }
                return Task.CompletedTask;
            }), cancellationToken);
        }
        if (format == "hf")
        {
            if (!store.Exists(v.TokenizerKey))
                return Problems.Invalid("format", "the version's tokenizer file is missing.", "The export is invalid.");
            var aliases = await db.ModelAliases.AsNoTracking().Where(a => a.Name == name && a.Version == version)
                .Select(a => a.Alias).OrderBy(a => a).ToListAsync(cancellationToken);
            var (weights, tokenizer) = (store.PathOf(key), store.PathOf(v.TokenizerKey));
            return TypedResults.Stream(body => HuggingFaceFolder.WriteAsync(v, aliases, weights, tokenizer, body,
                http.RequestAborted), "application/zip", $"{name}-v{version}-hf.zip");
        }
        return TypedResults.PhysicalFile(store.PathOf(key), "application/octet-stream",
            format == "gguf" ? $"{name}-v{version}-{type ?? "f32"}.gguf" : $"{name}-v{version}.safetensors");
    }

    // llama.cpp's GPT-2 is decoder-only and reads byte-level BPE: why another version cannot be written as GGUF.
    private static string? GgufRefusal(ModelVersion v, ArtifactStore store) =>
        v.Architecture != Architectures.Gpt
            ? $"llama.cpp's GPT-2 architecture is decoder-only; a {v.Architecture} exports as safetensors."
            : !store.Exists(v.TokenizerKey)
            ? "the version's tokenizer file is missing."
            : GgufExport.Refusal(TokenizerFile.Load(store.PathOf(v.TokenizerKey)));

    /// <summary>
    /// By the version's owner or an admin: removes a version from the registry, refused with 409 while an alias points
    /// to it or a LoRA version rests on it. An imported version's files go with it; a trained one's stay with its run,
    /// which may then be deleted without cascade. ModelVersionDeleted tells Training, Generation and Evaluation.
    /// </summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteVersionAsync(string name, int version,
        HttpContext http, RegistryDbContext db, Registrar registrar, ArtifactStore store,
        CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Under the alias lock, so no alias can be moved onto the version between the check and the delete.
        await AliasBook.LockAsync(db, name, cancellationToken);
        var readable = await db.ReadableVersionsAsync(http.Caller(), cancellationToken);
        var v = await readable
            .FirstOrDefaultAsync(m => m.Name == name && m.Version == version, cancellationToken);
        if (v is null)
            return NotFound(new ModelReference(name, version, null));
        if (!http.Caller().MayChange(v.OwnerId))
            return AccessProblems.NotOwner("model version");
        if (await VersionDependents.RefuseDeletionAsync(db, [$"{name}/versions/{version}"],
            cancellationToken) is { } refused)
            return refused;
        await registrar.RemoveAsync(v, $"deleted by {http.Caller().Name}", cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (v.ImportPrefix is { } files)
            store.DeletePrefix(files);
        else
            foreach (var export in v.ExportKeys)
                store.Delete(export);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound(ModelReference reference) =>
        Problems.NotFound("Model not found.", reference.NotFoundDetail);
}
