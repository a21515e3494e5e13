using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ML;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Security;
using Platform.Storage;
using Platform.Tokenizers;
using Training.Registry.Data;

namespace Training.Registry;

/// <summary>
/// Registers someone else's weights (the platform's export, nanoGPT's or Hugging Face GPT-2's safetensors layout) and
/// their tokenizer as the next version of a name: from an upload (POST /api/models/import) or from an external run's
/// artifacts. Every missing, surplus or misshapen tensor is named in the 400, and a model that cannot fit in the
/// training worker's memory is refused with 422; nothing is kept then.
/// </summary>
public sealed class ModelImporter(RegistryDbContext db, Registrar registrar, ArtifactStore store,
    IImportMemory importMemory, ILogger<ModelImporter> logger)
{
    /// <param name="runId">The external run the files come from; null for an upload (the version then names the
    /// import's own id as its run).</param>
    public async Task<(ModelVersion? Version, ProblemHttpResult? Problem)> ImportAsync(string name,
        Func<Stream, Task> writeWeights, Func<Stream, Task> writeTokenizer, JsonObject? config, Caller caller,
        Guid? runId, CancellationToken cancellationToken)
    {
        if (await ModelNames.RefuseUnlessMayRegisterAsync(db, name, caller, "name", cancellationToken) is { } taken)
            return (null, taken);

        var id = Guid.NewGuid();
        var prefix = $"imports/{id:N}";
        var (weightsKey, tokenizerKey, checkpointKey) = ($"{prefix}/weights.safetensors", $"{prefix}/tokenizer.json",
            $"{prefix}/checkpoint.bin");
        ImportedGpt imported;
        try
        {
            await store.WriteAsync(tokenizerKey, writeTokenizer);
            ITokenizer tokenizer;
            try
            {
                tokenizer = TokenizerFile.Load(store.PathOf(tokenizerKey));
            }
            catch (Exception ex) when (TokenizerFile.IsUnusable(ex))
            {
                store.DeletePrefix(prefix);
                return (null, Invalid("tokenizer", ex.Message));
            }
            await store.WriteAsync(weightsKey, writeWeights);
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
                return (null, Invalid("weights", [.. ex.Problems]));
            }
            catch (InvalidDataException ex)
            {
                store.DeletePrefix(prefix);
                return (null, Invalid("weights", ex.Message));
            }
            // Training and the registry share this process: a model that cannot fit is refused as a run would be.
            var memory = importMemory.Of(plan);
            if (memory.PeakBytes > memory.LimitBytes)
            {
                store.DeletePrefix(prefix);
                return (null, TooBig(plan, memory));
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
                RunId = runId ?? id,
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
        logger.LogInformation("Imported {Name} v{Version} ({Layout} layout)", name, version.Version, imported.Layout);
        return (version, null);
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

}
