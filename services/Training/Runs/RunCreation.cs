using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Security;
using Platform.Storage;
using Training.Apis;
using Training.Data;
using Training.Registry;

namespace Training.Runs;

/// <summary>A run request that passed every check that needs no lock: what <see cref="RunCreation.AddAsync"/>
/// creates.</summary>
public sealed record PreparedRun(RunSpec Spec, Guid DatasetId, FineTuneBase? FineTuneBase, string? TokenizerKey,
    IngestionDataset? Remote);

/// <summary>
/// Creating a run, in two halves: <see cref="PrepareAsync"/> checks the request (its spec, what it starts from, whether
/// it fits) before any transaction, and <see cref="AddAsync"/> adds and schedules it under its dataset's lock, inside
/// the caller's transaction. POST /api/runs creates one run this way, a sweep all of its runs in one transaction.
/// </summary>
public sealed class RunCreation(TrainingDbContext db, IngestionClient ingestion, RunEstimator estimator,
    ArtifactStore store, ModelRegistry registry)
{
    /// <summary>The run the JSON body asks for, or the problem (400, 404, 422, 503) that refuses it.</summary>
    public Task<(PreparedRun? Run, ProblemHttpResult? Problem)> PrepareAsync(JsonObject json, HttpRequest request,
        CancellationToken cancellationToken) =>
        PrepareAsync(json, JsonBody.Options(request), request.HttpContext.Caller(), announced: null,
            cancellationToken);

    /// <summary>
    /// The same for a caller outside a request (an upload's auto-train run, asked for by its uploader).
    /// <paramref name="announced"/> is the dataset as its DatasetIngested event told it, when the run comes from that
    /// event: nothing then needs asking of Ingestion.
    /// </summary>
    public async Task<(PreparedRun? Run, ProblemHttpResult? Problem)> PrepareAsync(JsonObject json,
        JsonSerializerOptions options, Caller caller, IngestionDataset? announced, CancellationToken cancellationToken)
    {
        var (body, unbound) = JsonBody.Bind<CreateRunRequest>(json, options);
        if (unbound is not null)
            return (null, unbound);
        var spec = body!.ToSpec();
        var errors = RunSpecValidator.Validate(spec);
        errors.Require(body.DatasetId is { } d && d != Guid.Empty, "datasetId", "is required.");
        if (!errors.IsValid)
            return (null, Problems.Invalid(errors, "The run is invalid."));

        // A fine-tune takes its base's architecture and tokenizer; a named tokenizer is another dataset's. Both, like
        // the dataset, must be readable by the caller: what it cannot read does not exist for it.
        FineTuneBase? fineTuneBase = null;
        string? tokenizerKey = null;
        if (spec.InitFrom is { } init)
        {
            fineTuneBase = await FineTuneBase.FindAsync(registry, store, ModelReference.Parse(init.Model)!,
                cancellationToken);
            if (fineTuneBase is null || !await db.MayReadAsync(caller, fineTuneBase.Version.Lineage, cancellationToken))
                return (null, Invalid("initFrom.model", $"names no registered version ('{init.Model}')."));
            if (fineTuneBase.Lora is not null && spec.FineTune?.Method == FineTuneMethods.Lora)
                return (null,
                    Invalid("initFrom.model",
                    $"{fineTuneBase.Reference} is itself a LoRA adapter: start a LoRA fine-tune from its base " +
                    $"({fineTuneBase.Lora.BaseModel}), or fine-tune it fully."));
            var (model, conflicts) = fineTuneBase.Merge(json["model"] as JsonObject, options);
            if (model is null)
                return (null, Problems.Invalid(conflicts, title: "The run is invalid."));
            spec = spec with { Model = model };
            tokenizerKey = fineTuneBase.Version.TokenizerKey;
            // The spec as it will train (the base's architecture included) meets the same rules as any run's.
            var merged = RunSpecValidator.Validate(spec);
            if (!merged.IsValid)
                return (null, Problems.Invalid(merged.ToDictionary(), title: "The run is invalid."));
        }
        if (spec.VectorsId is { } vectorsId && !await db.Vectors.AnyAsync(v => v.Id == vectorsId, cancellationToken))
            return (null,
                Invalid("vectorsId", $"names no uploaded vectors ({vectorsId}); upload them with POST /api/vectors."));
        if (spec.VectorsId is not null && spec.Model.Architecture != Architectures.Gpt)
            return (null,
                Invalid("vectorsId",
                "initialises a GPT's embedding; encoder-decoders start from their own initialisation."));
        if (spec.TokenizerId is { } tokenizerId)
        {
            var named = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(x => x.TokenizerId == tokenizerId
                && x.Status == DatasetStatus.Tokenized, cancellationToken);
            if (named is null || !await db.MayReadAsync(caller, named.Id, cancellationToken))
                return (null, Invalid("tokenizerId", $"names no tokenizer of a tokenized dataset ({tokenizerId})."));
            if (!DatasetFormats.Trains(Architectures.Gpt, named.Format))
                return (null,
                    Invalid("tokenizerId",
                    "names a paired dataset's tokenizer; runs on another tokenizer train GPTs on text."));
            if (tokenizerKey is not null && tokenizerKey != named.TokenizerKey)
                return (null,
                    Invalid("tokenizerId",
                    $"differs from the tokenizer of {fineTuneBase!.Reference}, which a fine-tune must keep."));
            tokenizerKey = named.TokenizerKey;
        }

        var datasetId = body.DatasetId!.Value;
        var known = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(x => x.Id == datasetId, cancellationToken);
        if (await RefuseIfTooBigAsync(spec, known?.VocabSize, cancellationToken) is { } tooBig)
            return (null, tooBig);

        // A dataset this service has not heard of yet, or whose reach it has not (their events may still be in flight),
        // is asked about over HTTP, before any transaction: a slow answer must not hold the dataset's lock.
        var reach = await db.DatasetReach.AsNoTracking().FirstOrDefaultAsync(r => r.DatasetId == datasetId,
            cancellationToken);
        var remote = announced;
        if (remote is null && (known is null || reach is null))
        {
            try
            {
                remote = await ingestion.FindAsync(datasetId, cancellationToken);
            }
            catch (Exception ex) when (ServiceClientExtensions.IsUnanswered(ex, cancellationToken))
            {
                return (null,
                    TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "Cannot check the dataset.",
                    detail: $"This service has not heard of dataset {datasetId} yet and the ingestion service did " +
                    "not answer; nothing was created. Try again shortly."));
            }
            if (remote is null)
                return (null, DatasetNotFound(datasetId));
        }
        if (!(reach?.Admits(caller) ?? remote!.Admits(caller)))
            return (null, DatasetNotFound(datasetId));
        return (new PreparedRun(spec, datasetId, fineTuneBase, tokenizerKey, remote), null);
    }

    /// <summary>
    /// Adds the run (tracked, not saved) and queues it, or leaves it waiting for its data; the caller holds a
    /// transaction and saves. The problem (404, 409, 400) refuses it when its dataset is gone, failed or of the other
    /// format.
    /// </summary>
    public async Task<(Run? Run, ProblemHttpResult? Problem)> AddAsync(PreparedRun prepared, Owner? owner,
        Guid? sweepId,
        CancellationToken cancellationToken, Guid? runId = null)
    {
        var (spec, datasetId, fineTuneBase, tokenizerKey, remote) = prepared;
        await RunScheduler.LockDatasetAsync(db, datasetId, cancellationToken);
        // Read under the lock from the database, not from what this context tracks already: a projection read before
        // the lock (the auto-train consumer records the dataset first) may predate DatasetTokenized, whose consumer
        // released the waiting runs before this one existed; scheduled on the stale row, it would wait for ever.
        if (db.Datasets.Local.FindEntry(datasetId) is
            { State: EntityState.Unchanged or EntityState.Modified } stale)
            await stale.ReloadAsync(cancellationToken);
        var dataset = await db.Datasets.FindAsync([datasetId], cancellationToken);
        if (dataset is null && remote is not null)
            db.Datasets.Add(dataset = new KnownDataset
            {
                Id = datasetId,
                Name = remote.Name,
                Status = remote.State == nameof(DatasetStatus.Failed) ? DatasetStatus.Failed : DatasetStatus.Ingested,
                FailureReason = remote.FailureReason,
                Format = remote.Format ?? DatasetFormats.Text,
                UpdatedAt = DateTimeOffset.UtcNow,
            });
        if (dataset is null or { Status: DatasetStatus.Deleted })
            return (null, DatasetNotFound(datasetId));
        if (dataset.Status == DatasetStatus.Failed)
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The dataset failed.",
                detail: $"Dataset {datasetId} cannot be trained on: {dataset.FailureReason}"));

        if (!DatasetFormats.Trains(spec.Model.Architecture, dataset.Format))
            return (null, Problems.Invalid(new Dictionary<string, string[]>
            {
                ["model.architecture"] = [$"'{spec.Model.Architecture}' does not train on dataset {datasetId}, which " +
                    $"holds {dataset.Format}: use \"{Architectures.For(dataset.Format)}\"."],
            }, title: "The run is invalid."));

        if (tokenizerKey is not null && dataset.Format == DatasetFormats.Pairs
            && dataset.Status == DatasetStatus.Tokenized
            && (tokenizerKey != dataset.TokenizerKey
            || fineTuneBase?.Version.SourceTokenizerKey != dataset.SourceTokenizerKey))
            return (null,
                Invalid("initFrom.model",
                $"{fineTuneBase?.Reference} was trained on other tokenizers than dataset {datasetId}'s: an " +
                "encoder-decoder fine-tunes on a paired dataset tokenized with its base's tokenizers (only text " +
                "datasets are encoded again)."));

        var run = Run.Create(runId ?? Guid.NewGuid(), spec, datasetId, owner, sweepId);
        if (fineTuneBase is not null)
            run.StartFrom(fineTuneBase.Reference, fineTuneBase.Version.CheckpointKey,
                fineTuneBase.Version.CheckpointSha256,
                tokenizerKey!, fineTuneBase.Version.Lineage);
        else if (tokenizerKey is not null)
            run.UseTokenizer(tokenizerKey);
        db.Runs.Add(run);
        await RunScheduler.ScheduleAsync(db, run, dataset, cancellationToken);
        return (run, null);
    }

    /// <summary>422 with the estimate when the run cannot fit in the training worker's memory; null when it
    /// can.</summary>
    private async Task<ProblemHttpResult?> RefuseIfTooBigAsync(RunSpec spec, int? vocabSize,
        CancellationToken cancellationToken)
    {
        var estimate = estimator.Estimate(spec, vocabSize);
        if (estimate.Fits)
            return null;
        estimate = await RunEstimator.WithMeasuredTimeAsync(estimate, db, cancellationToken);
        return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity,
            title: "The run does not fit in the training worker's memory.", detail: estimate.Explanation,
            extensions: new Dictionary<string, object?> { ["estimate"] = estimate });
    }

    private static ProblemHttpResult Invalid(string field, string message) =>
        Problems.Invalid(new Dictionary<string, string[]> { [field] = [message] },
        title: "The run is invalid.");

    private static ProblemHttpResult DatasetNotFound(Guid id) =>
        Problems.NotFound("Dataset not found.", $"No dataset has id {id}.");
}
