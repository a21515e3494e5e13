using Platform.ServiceDefaults.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Contracts;
using Generation.Data;
using Microsoft.EntityFrameworkCore;
using Platform.ML;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;
using Platform.ServiceDefaults.Reliability;

namespace Generation.Serving;

/// <summary>A version and its loaded model, held (see <see cref="ModelLease"/>) until the request disposes
/// it.</summary>
public sealed record ResolvedModel(ServableModel Model, ModelLease Lease) : IDisposable
{
    public LoadedModel Loaded => Lease.Model;

    public void Dispose() => Lease.Dispose();
}

/// <summary>What both generation APIs decode from: the model, the encoded prompt (or source) and beam search, if
/// any.</summary>
public sealed record PreparedGeneration(ResolvedModel Resolved, int[] Prompt, BeamSearchOptions? Beam);

/// <summary>Finds the servable version a reference names and loads it (cached); failures are problem results.</summary>
public sealed class ModelResolver(GenerationDbContext db, ModelCache cache, ILogger<ModelResolver> logger)
{
    /// <summary>
    /// The prompt's token ids (an encoder-decoder's source, with its &lt;/s&gt;), or a 400 naming the field when the
    /// tokenizer cannot encode it or it is longer than the encoder takes.
    /// </summary>
    public static (int[]? Ids, ProblemHttpResult? Problem) EncodePrompt(ResolvedModel model, string prompt,
        string field = "prompt")
    {
        try
        {
            if (model.Loaded.EncoderDecoder is not { } encoderDecoder)
                return (model.Loaded.Tokenizer.Encode(prompt), null);
            var source = model.Loaded.SourceTokenizer.Encode(prompt);
            var limit = encoderDecoder.Config.MaxSourceLength - 1;
            if (source.Length > limit)
                return (null, Problems.Invalid(field,
                    $"encodes to {source.Length} tokens; the model's encoder takes at most {limit}.",
                    "The input is too long."));
            return ([.. source, encoderDecoder.Config.SourceSpecials.Eos], null);
        }
        catch (Exception ex) when (ex is Platform.Tokenizers.UnknownTokenException or ArgumentException)
        {
            return (null, Problems.Invalid(field, ex.Message, "The prompt cannot be encoded."));
        }
    }

    /// <summary>
    /// The steps both APIs share after validating their own wire format: resolve the model, check the request suits its
    /// architecture, encode the prompt (field names in the API's own case) and choose beam search.
    /// </summary>
    public async Task<(PreparedGeneration? Prepared, ProblemHttpResult? Problem)> PrepareAsync(SamplingRequest request,
        Caller caller,
        bool snakeCase, string promptField, string title, CancellationToken cancellationToken)
    {
        var (resolved, notFound) = await ResolveAsync(ModelReference.Parse(request.Model)!, caller, cancellationToken);
        if (notFound is not null)
            return (null, notFound);
        var architectureErrors = request.CheckArchitecture(resolved!.Model.Architecture, snakeCase);
        if (!architectureErrors.IsValid)
        {
            resolved.Dispose();
            return (null, Problems.Invalid(architectureErrors.ToDictionary(), title: title));
        }
        var (prompt, unencodable) = EncodePrompt(resolved, request.Prompt!, promptField);
        if (unencodable is not null)
        {
            resolved.Dispose();
            return (null, unencodable);
        }
        return (new PreparedGeneration(resolved, prompt!, request.Beam(resolved.Model.Architecture)), null);
    }

    /// <summary>
    /// The version a reference names, among those <paramref name="caller"/> may read (whose lineage it may read all
    /// of): a bare name is its highest such version, and a version or alias it may not read is not found.
    /// </summary>
    public async Task<(ResolvedModel? Model, ProblemHttpResult? Problem)> ResolveAsync(ModelReference reference,
        Caller caller, CancellationToken cancellationToken)
    {
        // An alias is read on every request, so a moved alias is followed as soon as its ModelAliasMoved has arrived.
        var servable = await ProjectionLag.SettleAsync(async ct =>
        {
            var number = await db.VersionOfAsync(reference, ct);
            var query = db.Models.AsNoTracking().Where(m => m.Name == reference.Name);
            if (number is { } v)
                query = query.Where(m => m.Version == v);
            var candidates = await query.OrderByDescending(m => m.Version).ToListAsync(ct);
            var readable = await db.ReadableAmongAsync(caller, candidates.SelectMany(m => m.Lineage ?? []), ct);
            return candidates.FirstOrDefault(m => readable.Covers(m.Lineage));
        }, cancellationToken);
        if (servable is null)
            return (null, Problems.NotFound("Model not found.", reference.NotFoundDetail));
        try
        {
            return (new ResolvedModel(servable, await cache.GetAsync(servable)), null);
        }
        catch (Exception ex) when (ex is InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
        {
            logger.LogWarning("Model {Name} v{Version} cannot be loaded: {Reason}", servable.Name, servable.Version,
                ex.Message);
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Model cannot be loaded.",
                detail: $"{servable.Name} v{servable.Version} cannot be loaded: {PublicReason.Of(ex)}."));
        }
    }
}
