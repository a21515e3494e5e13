using Ingestion.Corpus;
using Ingestion.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.Storage;

namespace Ingestion.Apis;

public sealed class IngestionOptions
{
    /// <summary>Largest accepted corpus, in bytes of the uploaded file (default 100 MiB).</summary>
    public long MaxUploadBytes { get; set; } = 100L * 1024 * 1024;
}

public static class DatasetsApi
{
    public static IEndpointRouteBuilder MapDatasetsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/datasets").WithTags("Datasets");
        var maxBytes = app.ServiceProvider.GetRequiredService<IOptions<IngestionOptions>>().Value.MaxUploadBytes;
        // Kestrel's own limit sits just above ours so multipart framing fits; the normaliser enforces the exact one.
        group.MapPost("/", UploadAsync).WithMetadata(new RequestSizeLimitAttribute(maxBytes + 1024 * 1024)).DisableAntiforgery();
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        return app;
    }

    private static async Task<IResult> UploadAsync(HttpRequest request, IngestionDbContext db, ArtifactStore store,
        IOptions<IngestionOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        Upload upload;
        try
        {
            upload = await UploadReader.ReadAsync(request, store, options.Value.MaxUploadBytes, cancellationToken);
        }
        catch (CorpusRejectedException ex)
        {
            return FileProblem(ex.Message, ex.StatusCode);
        }
        catch (BadHttpRequestException ex)
        {
            return FileProblem(ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"The upload is larger than the limit of {options.Value.MaxUploadBytes:N0} bytes."
                : ex.Message, ex.StatusCode);
        }

        using (upload)
        {
            var (fields, errors) = UploadFields.Parse(upload.Fields);
            if (upload.TokenizerFile is not null)
                CheckTokenizerFile(upload.TokenizerFile, errors);
            if (fields is null || !errors.IsValid)
                return Results.ValidationProblem(errors.ToDictionary(), title: "The upload's fields are invalid.");

            var id = Guid.NewGuid();
            var prefix = $"datasets/{id:N}";
            var dataset = new Dataset
            {
                Id = id,
                Name = fields.Name,
                State = DatasetState.Uploaded,
                Sha256 = upload.Stats.Sha256,
                Bytes = upload.Stats.Bytes,
                Characters = upload.Stats.Characters,
                Lines = upload.Stats.Lines,
                ValidationFraction = fields.ValidationFraction,
                CorpusKey = $"{prefix}/corpus.txt",
                TrainKey = $"{prefix}/train.txt",
                ValidationKey = $"{prefix}/validation.txt",
                TokenizerKind = upload.TokenizerFile is null ? fields.Tokenizer.Kind : TokenizerKinds.Uploaded,
                AutoTrainRunId = fields.AutoTrain is null ? null : Guid.NewGuid(),
                CreatedAt = DateTimeOffset.UtcNow,
            };
            try
            {
                await StoreSplitsAsync(upload, dataset, store, cancellationToken);
            }
            catch (CorpusRejectedException ex)
            {
                store.DeletePrefix(prefix);
                return FileProblem(ex.Message, ex.StatusCode);
            }

            var tokenizer = fields.Tokenizer;
            if (upload.TokenizerFile is not null)
            {
                var key = $"{prefix}/tokenizer.json";
                upload.TokenizerFile.Commit(key);
                tokenizer = new TokenizerSpec { Kind = TokenizerKinds.Uploaded, FileKey = key };
            }
            dataset.State = DatasetState.Ingested;
            dataset.UpdatedAt = DateTimeOffset.UtcNow;
            db.Datasets.Add(dataset);
            db.PublishViaOutbox(new DatasetIngested(dataset.Id, dataset.Name, dataset.TrainKey, dataset.ValidationKey,
                dataset.TrainBytes, dataset.ValidationBytes, tokenizer,
                fields.AutoTrain is null ? null : new AutoTrainRequest(dataset.AutoTrainRunId!.Value, fields.AutoTrain),
                dataset.UpdatedAt));
            await db.SaveChangesAsync(cancellationToken);
            loggers.CreateLogger("Ingestion").LogInformation(
                "Dataset {Id} '{Name}' ingested: {Bytes} bytes, {Chars} characters, {Lines} lines, sha256 {Sha}",
                id, dataset.Name, dataset.Bytes, dataset.Characters, dataset.Lines, dataset.Sha256);
            return Results.Accepted($"/api/datasets/{id}", DatasetResponse.From(dataset));
        }
    }

    /// <summary>An uploaded tokenizer must load (byte-level BPE tokenizer.json or the platform's char file).</summary>
    private static void CheckTokenizerFile(StagedArtifact file, ValidationErrors errors)
    {
        try
        {
            Platform.Tokenizers.TokenizerFile.Load(file.Path);
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or KeyNotFoundException or InvalidOperationException
                                       or FormatException or System.Text.Json.JsonException)
        {
            errors.Add("tokenizerFile", $"is not a usable tokenizer: {ex.Message}");
        }
    }

    private static async Task StoreSplitsAsync(Upload upload, Dataset dataset, ArtifactStore store, CancellationToken cancellationToken)
    {
        await using (var corpus = File.OpenRead(upload.Staged.Path))
        {
            var split = CorpusSplitter.FindSplit(corpus, dataset.Bytes, dataset.ValidationFraction);
            await store.WriteAsync(dataset.TrainKey, o => CorpusSplitter.CopyRangeAsync(corpus, 0, split, o, cancellationToken));
            await store.WriteAsync(dataset.ValidationKey, o => CorpusSplitter.CopyRangeAsync(corpus, split, dataset.Bytes, o, cancellationToken));
            dataset.TrainBytes = split;
            dataset.ValidationBytes = dataset.Bytes - split;
        }
        upload.Staged.Commit(dataset.CorpusKey);
    }

    private static IResult FileProblem(string message, int status) => status == StatusCodes.Status400BadRequest
        ? Results.ValidationProblem(new Dictionary<string, string[]> { ["file"] = [message] }, title: "The corpus was rejected.")
        : Results.Problem(detail: message, statusCode: status, title: "The corpus was rejected.",
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["file"] = [message] } });

    private static async Task<IResult> ListAsync(IngestionDbContext db, int? limit, CancellationToken cancellationToken)
    {
        var take = Math.Clamp(limit ?? 100, 1, 1000);
        var datasets = await db.Datasets.AsNoTracking().OrderByDescending(d => d.CreatedAt).Take(take).ToListAsync(cancellationToken);
        return Results.Ok(datasets.Select(DatasetResponse.From));
    }

    private static async Task<IResult> GetAsync(Guid id, IngestionDbContext db, CancellationToken cancellationToken) =>
        await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken) is { } dataset
            ? Results.Ok(DatasetResponse.From(dataset))
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Dataset not found.", detail: $"No dataset has id {id}.");
}
