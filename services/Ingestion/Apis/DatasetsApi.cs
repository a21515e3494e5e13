using Ingestion.Corpus;
using Ingestion.Data;
using Ingestion.Privacy;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Security;
using Platform.ServiceDefaults.Reliability;
using Platform.Storage;

namespace Ingestion.Apis;

public static class DatasetsApi
{
    public static IEndpointRouteBuilder MapDatasetsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/datasets").WithTags("Datasets");
        var maxBytes = app.ServiceProvider.GetRequiredService<IOptions<IngestionOptions>>().Value.MaxUploadBytes;
        // Kestrel's own limit sits just above ours so multipart framing fits; the normaliser enforces the exact one.
        group.MapPost("/",
            UploadAsync).WithMetadata(new RequestSizeLimitAttribute(maxBytes + 1024 * 1024)).DisableAntiforgery();
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapGet("/{id:guid}/content", GetContentAsync);
        group.MapGet("/{id:guid}/sharing", GetSharingAsync);
        group.MapPut("/{id:guid}/sharing", ShareAsync);
        group.MapDelete("/{id:guid}", DeleteAsync);
        return app;
    }

    private static async Task<Results<Accepted<DatasetResponse>, ProblemHttpResult>> UploadAsync(HttpContext http,
        IngestionDbContext db, ArtifactStore store, IOptions<IngestionOptions> options, ILoggerFactory loggers,
        FaultInjector faults, CancellationToken cancellationToken)
    {
        Upload upload;
        try
        {
            upload = await UploadReader.ReadAsync(http.Request, store, options.Value.MaxUploadBytes, cancellationToken);
        }
        catch (CorpusRejectedException ex)
        {
            return Rejected(ex.Message, ex.StatusCode, ex.Field);
        }
        catch (BadHttpRequestException ex)
        {
            return Rejected(ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"The upload is larger than the limit of {options.Value.MaxUploadBytes:N0} bytes."
                : ex.Message, ex.StatusCode, "file");
        }

        using (upload)
        {
            var (fields, errors) = UploadFields.Parse(upload.Fields);
            if (upload.TokenizerFile is not null)
                CheckTokenizerFile(upload.TokenizerFile, errors);
            if (fields is null || !errors.IsValid)
                return Problems.Invalid(errors, "The upload's fields are invalid.");

            var dataset = Dataset.Ingested(Guid.NewGuid(), fields.Name, http.Caller(), DateTimeOffset.UtcNow,
                fields.Format);
            dataset.Sha256 = upload.Stats.Sha256;
            dataset.Bytes = upload.Stats.Bytes;
            dataset.Characters = upload.Stats.Characters;
            dataset.Lines = upload.Stats.Lines;
            dataset.ValidationFraction = fields.ValidationFraction;
            dataset.TokenizerKind = upload.TokenizerFile is null ? fields.Tokenizer.Kind : TokenizerKinds.Uploaded;
            dataset.AutoTrainRunId = fields.AutoTrain is null ? null : Guid.NewGuid();
            dataset.Redaction = Summarise(upload.Redaction);
            try
            {
                await StoreSplitsAsync(upload, dataset, store, cancellationToken);
                var tokenizer = fields.Tokenizer;
                if (upload.TokenizerFile is not null)
                {
                    var key = $"{Dataset.PrefixOf(dataset.Id)}/tokenizer.json";
                    upload.TokenizerFile.Commit(key);
                    tokenizer = new TokenizerSpec { Kind = TokenizerKinds.Uploaded, FileKey = key };
                }
                db.Datasets.Add(dataset);
                // The reach goes first, so no service learns of the dataset without knowing who may read it.
                db.PublishViaOutbox(dataset.SharingChanged());
                var autoTrainRequest = fields.AutoTrain is null
                    ? null
                    : new AutoTrainRequest(dataset.AutoTrainRunId!.Value, fields.AutoTrain);
                db.PublishViaOutbox(new DatasetIngested(dataset.Id, dataset.Name, dataset.TrainKey,
                    dataset.ValidationKey, dataset.TrainBytes, dataset.ValidationBytes, tokenizer, autoTrainRequest,
                    dataset.UpdatedAt, dataset.OwnerOf(), dataset.Format));
                faults.At("dataset-save", dataset.Name);
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (Exception ex)
            {
                // Refused, or not recorded (the database failed, or the client went away): the stored text goes too,
                // so no corpus outlives the dataset that would have owned it.
                store.DeletePrefix(Dataset.PrefixOf(dataset.Id));
                if (ex is CorpusRejectedException rejected)
                    return Rejected(rejected.Message, rejected.StatusCode, rejected.Field);
                throw;
            }
            loggers.CreateLogger("Ingestion").LogInformation(
                "Dataset {Id} '{Name}' ingested for key {Owner}: {Bytes} bytes, {Chars} characters, {Lines} lines, " +
                "sha256 {Sha}{Redacted}",
                dataset.Id, dataset.Name, dataset.OwnerId, dataset.Bytes, dataset.Characters, dataset.Lines,
                dataset.Sha256,
                upload.Redaction is { } r
                ? $", redacted {string.Join(", ", r.Counts.Select(c => $"{c.Value} {RedactionKinds.NameOf(c.Key)}"))}"
                : "");
            return TypedResults.Accepted($"/api/datasets/{dataset.Id}", DatasetResponse.From(dataset));
        }
    }

    private static RedactionSummary? Summarise(PiiRedactor? redactor) => redactor is null ? null : new RedactionSummary
    {
        Kinds = redactor.Kinds.OrderBy(k => k).Select(RedactionKinds.NameOf).ToList(),
        Email = redactor.Counts.GetValueOrDefault(RedactionKind.Email),
        Phone = redactor.Counts.GetValueOrDefault(RedactionKind.Phone),
        Ip = redactor.Counts.GetValueOrDefault(RedactionKind.Ip),
        CreditCard = redactor.Counts.GetValueOrDefault(RedactionKind.CreditCard),
        CnId = redactor.Counts.GetValueOrDefault(RedactionKind.CnId),
    };

    /// <summary>An uploaded tokenizer must load (byte-level BPE tokenizer.json or the platform's char file).</summary>
    private static void CheckTokenizerFile(StagedArtifact file, ValidationErrors errors)
    {
        try
        {
            Platform.Tokenizers.TokenizerFile.Load(file.Path);
        }
        catch (Exception ex) when (Platform.Tokenizers.TokenizerFile.IsUnusable(ex))
        {
            errors.Add("tokenizerFile", $"is not a usable tokenizer: {ex.Message}");
        }
    }

    private static async Task StoreSplitsAsync(Upload upload, Dataset dataset, ArtifactStore store,
        CancellationToken cancellationToken)
    {
        if (dataset.Format == DatasetFormats.Chat)
        {
            dataset.Chat = await ChatCorpus.SplitAsync(upload.Staged.Path, dataset.ValidationFraction, store,
                dataset.TrainKey, dataset.ValidationKey, cancellationToken);
            dataset.TrainBytes = new FileInfo(store.PathOf(dataset.TrainKey)).Length;
            dataset.ValidationBytes = new FileInfo(store.PathOf(dataset.ValidationKey)).Length;
            upload.Staged.Commit(dataset.CorpusKey);
            return;
        }
        if (dataset.Format == DatasetFormats.Pairs)
        {
            var stats = await PairCorpus.SplitAsync(upload.Staged.Path, dataset.ValidationFraction, store,
                dataset.TrainKey, dataset.ValidationKey, cancellationToken);
            dataset.Pairs = new PairSummary
            {
                Pairs = stats.Pairs,
                TrainPairs = stats.TrainPairs,
                ValidationPairs = stats.ValidationPairs,
                MeanSourceCharacters = Math.Round(stats.MeanSourceCharacters, 2),
                MaxSourceCharacters = stats.MaxSourceCharacters,
                MeanTargetCharacters = Math.Round(stats.MeanTargetCharacters, 2),
                MaxTargetCharacters = stats.MaxTargetCharacters,
            };
            dataset.TrainBytes = new FileInfo(store.PathOf(dataset.TrainKey)).Length;
            dataset.ValidationBytes = new FileInfo(store.PathOf(dataset.ValidationKey)).Length;
            upload.Staged.Commit(dataset.CorpusKey);
            return;
        }
        await using (var corpus = File.OpenRead(upload.Staged.Path))
        {
            var split = CorpusSplitter.FindSplit(corpus, dataset.Bytes, dataset.ValidationFraction);
            await store.WriteAsync(dataset.TrainKey, o =>
                CorpusSplitter.CopyRangeAsync(corpus, 0, split, o, cancellationToken));
            await store.WriteAsync(dataset.ValidationKey, o =>
                CorpusSplitter.CopyRangeAsync(corpus, split, dataset.Bytes, o, cancellationToken));
            dataset.TrainBytes = split;
            dataset.ValidationBytes = dataset.Bytes - split;
        }
        upload.Staged.Commit(dataset.CorpusKey);
    }

    private static ProblemHttpResult Rejected(string message, int status, string field) =>
        status == StatusCodes.Status400BadRequest
        ? Problems.Invalid(field, message,
            title: field == "file" ? "The corpus was rejected." : "The upload's fields are invalid.")
        : TypedResults.Problem(detail: message, statusCode: status, title: "The corpus was rejected.",
            extensions: new Dictionary<string,
            object?>
            { ["errors"] = new Dictionary<string, string[]> { [field] = [message] } });

    /// <summary>Datasets, newest first, a page at a time (limit, cursor); owner= "me", a key id or a key
    /// name.</summary>
    private static async Task<Results<Ok<Page<DatasetResponse>>,
        ProblemHttpResult>> ListAsync(HttpContext http, IngestionDbContext db, int? limit,
        string? cursor, string? owner, CancellationToken cancellationToken)
    {
        var (take, after, errors) = Pages.Read<CreatedPosition>(limit, cursor);
        if (!errors.IsValid)
            return Pages.Invalid(errors);
        var caller = http.Caller();
        return TypedResults.Ok(await db.ReadableBy(caller).AsNoTracking().OwnedBy(OwnerFilter.Parse(owner, caller))
            .NewestFirstPageAsync(take, after, DatasetResponse.From, cancellationToken));
    }

    /// <summary>A dataset its caller may read; one it may not is as unknown as one that never existed (404).</summary>
    private static async Task<Results<Ok<DatasetResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http,
        IngestionDbContext db, CancellationToken cancellationToken) =>
        await db.ReadableBy(http.Caller()).AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken)
            is { } dataset
            ? TypedResults.Ok(DatasetResponse.From(dataset))
            : NotFound(id);

    private static async Task<Results<Ok<DatasetSharing>, ProblemHttpResult>> GetSharingAsync(Guid id, HttpContext http,
        IngestionDbContext db, CancellationToken cancellationToken) =>
        await db.ReadableBy(http.Caller()).AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken)
            is { } dataset
            ? TypedResults.Ok(DatasetSharing.From(dataset))
            : NotFound(id);

    /// <summary>
    /// Replaces whom the dataset (and what is learned from it) is shared with; its owner or an admin only. The other
    /// services follow by DatasetSharingChanged, so a revocation reaches them within a message's delivery.
    /// </summary>
    private static async Task<Results<Ok<DatasetSharing>, ProblemHttpResult>> ShareAsync(Guid id,
        DatasetSharingRequest? body, HttpContext http, IngestionDbContext db, ILogger<DatasetDeletion> logger,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        errors.Require(body?.Everyone is not null, "everyone", "is required (true or false).");
        errors.Require(body?.Readers is not { Count: > 1000 }, "readers", "lists at most 1000 keys.");
        errors.Require(body?.Readers?.Contains(Guid.Empty) != true, "readers", "holds an empty key id.");
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The sharing is invalid.");
        var caller = http.Caller();
        var dataset = await db.ReadableBy(caller).FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (dataset is null)
            return NotFound(id);
        if (!caller.MayChange(dataset.OwnerId))
            return AccessProblems.NotOwner("dataset");
        dataset.Share(body!.Everyone!.Value, body.Readers ?? []);
        db.PublishViaOutbox(dataset.SharingChanged());
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Dataset {Id} shared by key {KeyId}: everyone {Everyone}, {Readers} keys",
            id, caller.KeyId, dataset.SharedWithEveryone, dataset.Readers.Count);
        return TypedResults.Ok(DatasetSharing.From(dataset));
    }

    /// <summary>The stored corpus (redacted, if the upload asked for it), to whoever may read the dataset.</summary>
    private static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> GetContentAsync(Guid id,
        HttpContext http, IngestionDbContext db, ArtifactStore store, CancellationToken cancellationToken)
    {
        var dataset = await db.ReadableBy(http.Caller()).AsNoTracking().FirstOrDefaultAsync(d => d.Id == id,
            cancellationToken);
        if (dataset is null)
            return NotFound(id);
        return TypedResults.PhysicalFile(store.PathOf(dataset.CorpusKey), "text/plain; charset=utf-8",
            $"{dataset.Name}.txt",
            enableRangeProcessing: true);
    }

    /// <summary>
    /// Deletes a dataset by its owner or an admin: the corpus, splits and any uploaded tokenizer at once, and, by the
    /// DatasetDeleted event, its tokenizer and token files. Runs trained on it and versions learned from it, of any
    /// owner, make this a 409 listing them, unless cascade=true, which deletes exactly those too (the data's owner may:
    /// the right to remove one's data covers what was learned from it) and records the list in the audit log.
    /// </summary>
    private static async Task<Results<Accepted<DatasetDeletionResponse>, ProblemHttpResult>> DeleteAsync(Guid id,
        bool? cascade, HttpContext http, IngestionDbContext db, ArtifactStore store, TrainingClient training,
        ILogger<DatasetDeletion> logger, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        var dataset = await db.ReadableBy(caller).FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (dataset is null)
            return NotFound(id);
        if (!caller.MayChange(dataset.OwnerId))
            return AccessProblems.NotOwner("dataset");

        DatasetDependents dependents;
        try
        {
            dependents = await training.DependentsOfAsync(id, cancellationToken);
        }
        catch (Exception ex) when (ServiceClientExtensions.IsUnanswered(ex, cancellationToken))
        {
            logger.LogWarning("Cannot ask Training about runs on dataset {Id}: {Message}", id, ex.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Cannot check what depends on the dataset.",
                detail: "The training service did not answer which runs use this dataset; nothing was deleted. Try " +
                "again shortly.");
        }
        var (runs, versions) = (dependents.Runs, dependents.ModelVersions);
        if (dependents.Any && cascade != true)
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "Runs were trained on this dataset.",
                detail: $"{runs.Count} run(s) use dataset {id} and {versions.Count} model version(s) learned from " +
                        $"it, of {Owners(dependents)}. Delete with ?cascade=true to remove them (checkpoints, " +
                        "metrics, evaluations, versions and the aliases pointing to them) as well.",
                extensions: new Dictionary<string, object?> { ["runs"] = runs, ["modelVersions"] = versions });

        dataset.Delete(caller);
        db.PublishViaOutbox(new DatasetDeleted(id, cascade == true, caller.AsOwner(), dataset.UpdatedAt)
        {
            Runs = [.. runs.Select(r => r.Id)],
            ModelVersions = [.. versions.Select(v => $"{v.Name}/versions/{v.Version}")],
        });
        await db.SaveChangesAsync(cancellationToken);
        if (dependents.Any)
            AuditDetail.Set(http.Response, "cascade: " + System.Text.Json.JsonSerializer.Serialize(dependents,
                JsonBody.Options(http.Request)));
        // Also done by this service's own DatasetDeletedConsumer, so a crash right here still removes the files.
        store.DeletePrefix(Dataset.PrefixOf(id));
        logger.LogInformation(
            "Dataset {Id} deleted by key {KeyId} (cascade: {Cascade}, {Runs} runs, {Versions} versions)",
            id, caller.KeyId, cascade == true, runs.Count, versions.Count);
        return TypedResults.Accepted($"/api/datasets/{id}", new DatasetDeletionResponse(id, cascade == true, runs,
            versions));
    }

    private static string Owners(DatasetDependents dependents)
    {
        var names = dependents.Runs.Select(r => r.Owner?.Name).Concat(dependents.ModelVersions.Select(v
            => v.Owner?.Name))
            .Select(n => n ?? "no key").Distinct().Order().ToList();
        return names.Count == 1 ? $"the key '{names[0]}'" : $"{names.Count} keys ({string.Join(", ", names)})";
    }

    private static ProblemHttpResult NotFound(Guid id) =>
        Problems.NotFound("Dataset not found.", $"No dataset has id {id}.");
}

/// <summary>Logger category of dataset deletions.</summary>
public sealed class DatasetDeletion;
