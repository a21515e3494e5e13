using Platform.ServiceDefaults.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ML;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Security;
using Platform.Storage;
using Platform.Tokenizers;
using Training.Registry.Data;

using Platform.ServiceDefaults;

namespace Training.Registry.Apis;

/// <summary>Bring your own model: weights (POST /api/models/import) registered as a version like any trained
/// one.</summary>
public static class ModelImportApi
{
    public static IEndpointRouteBuilder MapModelImportApi(this IEndpointRouteBuilder app)
    {
        var limits = app.ServiceProvider.GetRequiredService<IOptions<ModelImportOptions>>().Value;
        // Kestrel's own limit sits just above ours so the multipart framing and the small parts fit.
        app.MapPost("/api/models/import", ImportAsync).WithTags("Models")
            .WithMetadata(new RequestSizeLimitAttribute(limits.MaxWeightsBytes + (16 << 20))).DisableAntiforgery();
        return app;
    }

    /// <summary>422 with the estimate, in the shape a run's refusal has.</summary>
    private static ProblemHttpResult TooBig(ImportPlan plan, MemoryEstimate memory) =>
        TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity,
            title: "The model does not fit in the training worker's memory.",
            detail: Explain(plan, memory),
            extensions: new Dictionary<string, object?>
            {
                ["field"] = "weights",
                ["estimate"] = new { parameters = plan.Parameters, memory },
            });

    private static string Explain(ImportPlan plan, MemoryEstimate memory) =>
        $"The {plan.Config.NLayer}-layer, {plan.Config.NEmbd}-wide model has {plan.Parameters:N0} parameters and " +
        $"needs about {GiB(memory.PeakBytes)} to import ({GiB(memory.WeightsAndOptimizerBytes)} weights, " +
        $"{GiB(memory.ActivationBytes)} to read its largest tensor, {GiB(memory.BaselineBytes)} the worker itself); " +
        $"the training worker has {GiB(memory.LimitBytes)}.";

    private static string GiB(long bytes) => $"{bytes / (1024.0 * 1024 * 1024):F1} GiB";

    private static ProblemHttpResult Invalid(string field, params string[] messages) =>
        Problems.Invalid(new Dictionary<string, string[]> { [field] = messages }, "The import is invalid.");

    /// <summary>
    /// Registers weights (the platform's export, nanoGPT's or Hugging Face GPT-2's safetensors layout) and their
    /// tokenizer as the next version of Name. Every missing, surplus or misshapen tensor is named in the 400; nothing
    /// is kept then.
    /// </summary>
    private static async Task<Results<Created<ModelVersionResponse>, ProblemHttpResult>> ImportAsync(
        HttpContext http, RegistryDbContext db, Registrar registrar, ArtifactStore store,
        IOptions<ModelImportOptions> options, IImportMemory importMemory, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxWeightsBytes;
        var (form, problem) = await MultipartUpload.ReadFormAsync(http.Request, limit, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors();
        var name = form!["name"].ToString().Trim();
        errors.Require(RunSpecValidator.IsModelName(name), "name",
            "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit.");
        var weights = form.Files.GetFile("weights");
        errors.Require(weights is { Length: > 0 }, "weights", "is required: a .safetensors file.");
        errors.Require(weights is null || weights.Length <= limit, "weights", $"must be at most {limit:N0} bytes.");
        var tokenizerFile = form.Files.GetFile("tokenizer");
        errors.Require(tokenizerFile is { Length: > 0 }, "tokenizer", "is required: a tokenizer.json file.");
        JsonObject? config = null;
        var configText = form.Files.GetFile("config") is { } configFile
            ? await new StreamReader(configFile.OpenReadStream()).ReadToEndAsync(cancellationToken)
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
            return Problems.Invalid(errors, "The import is invalid.");
        var caller = http.Caller();
        if (await ModelNames.RefuseUnlessMayRegisterAsync(db, name, caller, "name", cancellationToken) is { } taken)
            return taken;

        var id = Guid.NewGuid();
        var prefix = $"imports/{id:N}";
        var (weightsKey, tokenizerKey, checkpointKey) = ($"{prefix}/weights.safetensors", $"{prefix}/tokenizer.json",
            $"{prefix}/checkpoint.bin");
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
            ImportPlan plan;
            try
            {
                // The header is checked against the file and the model it describes before anything is allocated.
                var path = store.PathOf(weightsKey);
                plan = await Task.Run(() => GptImport.Plan(path, tokenizer.VocabSize, config), cancellationToken);
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
            // Training and the registry share this process: a model that cannot fit is refused as a run would be.
            var memory = importMemory.Of(plan);
            if (memory.PeakBytes > memory.LimitBytes)
            {
                store.DeletePrefix(prefix);
                return TooBig(plan, memory);
            }
            imported = await Task.Run(() => GptImport.Import(plan), cancellationToken);
            using (imported.Model)
                await store.WriteAsync(checkpointKey, s =>
                    { Checkpoint.Save(imported.Model, s); return Task.CompletedTask; });
            store.Delete(weightsKey);
        }
        catch
        {
            store.DeletePrefix(prefix);
            throw;
        }

        var owner = caller.AsOwner();
        var sha = await store.Sha256Async(checkpointKey, cancellationToken);
        ModelVersion version;
        try
        {
            // Numbered under the name's lock: two imports of one name (or an import and a run registering) take turns.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await ModelNames.LockVersionsAsync(db, name, cancellationToken);
            version = registrar.Add(new ModelVersion
            {
                Id = Guid.NewGuid(),
                Name = name,
                Version = await registrar.NextVersionAsync(name, cancellationToken),
                RunId = id,
                DatasetId = Guid.Empty,
                OwnerId = owner.Id,
                OwnerName = owner.Name,
                CheckpointKey = checkpointKey,
                CheckpointSha256 = sha,
                TokenizerKey = tokenizerKey,
                Architecture = Architectures.Gpt,
                ImportedFrom = imported.Layout,
                CreatedAt = DateTimeOffset.UtcNow,
                Lineage = [],
                LineageAnnounced = true,
            });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch
        {
            // Nothing was registered: the files go too, so no orphan stays in the store.
            store.DeletePrefix(prefix);
            throw;
        }
        loggers.CreateLogger(nameof(ModelImportApi)).LogInformation("Imported {Name} v{Version} ({Layout} layout)",
            name, version.Version, imported.Layout);
        return TypedResults.Created($"/api/models/{name}/versions/{version.Version}",
            ModelVersionResponse.From(version));
    }
}
