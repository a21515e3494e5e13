using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Generation.Serving;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ML;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Security;

namespace Generation.Apis;

/// <summary>OpenAI's embeddings request: input is a string or an array of strings; encoding_format "float" (the
/// default) or "base64" (little-endian float32s, as OpenAI's clients ask for).</summary>
public sealed record EmbeddingRequest(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("input")] JsonElement? Input,
    [property: JsonPropertyName("encoding_format")] string? EncodingFormat);

/// <summary>One input's embedding: a float array, or with encoding_format "base64" a base64 string.</summary>
public sealed record EmbeddingData(string Object, int Index, object Embedding);

public sealed record EmbeddingUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

public sealed record EmbeddingResponse(string Object, IReadOnlyList<EmbeddingData> Data, string Model,
    EmbeddingUsage Usage);

/// <summary>
/// POST /v1/embeddings, shaped like OpenAI's: for a GPT version, each input's final hidden states mean-pooled over its
/// tokens and L2-normalised (<see cref="GptEmbedding"/>). An input longer than the model's block size is refused, not
/// cut.
/// </summary>
public static class EmbeddingsApi
{
    public const int MaxInputs = 64;
    private const string Title = "The embeddings request is invalid.";

    public static IEndpointRouteBuilder MapEmbeddingsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/embeddings", EmbedAsync).WithTags("OpenAI");
        return app;
    }

    private static async Task<Results<Ok<EmbeddingResponse>, ProblemHttpResult>> EmbedAsync(HttpContext http,
        ModelResolver resolver, GenerationGate gate, IOptions<GenerationOptions> options,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<EmbeddingRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors();
        errors.Require(ModelReference.Parse(body!.Model) is not null, "model", $"must be {ModelReference.Forms}.");
        var inputs = StringOrArray.Read(body.Input, MaxInputs);
        errors.Require(inputs is [_, ..] && inputs.All(i => i.Length > 0), "input",
            $"must be a non-empty string or an array of 1 to {MaxInputs} non-empty strings (token arrays are not " +
            "accepted).");
        errors.Require(inputs is null || inputs.All(i => i.Length <= options.Value.MaxPromptCharacters), "input",
            $"must be at most {options.Value.MaxPromptCharacters:N0} characters each.");
        errors.Require(body.EncodingFormat is null or "float" or "base64", "encoding_format",
            "must be \"float\" or \"base64\".");
        if (!errors.IsValid)
            return Problems.Invalid(errors, Title);

        var (resolved, notFound) = await resolver.ResolveAsync(ModelReference.Parse(body.Model)!, http.Caller(),
            cancellationToken);
        if (notFound is not null)
            return notFound;
        using var _ = resolved;
        var loaded = resolved!.Loaded;
        if (loaded.EncoderDecoder is not null)
            return Problems.Invalid("model", $"is an {resolved.Model.Architecture} model; embeddings come from GPT " +
                "models.", Title);
        var encoded = new List<int[]>();
        foreach (var (input, index) in inputs!.Select((input, index) => (input, index)))
        {
            var (ids, unencodable) = ModelResolver.EncodePrompt(resolved, input, "input");
            if (unencodable is not null)
                return unencodable;
            if (ids!.Length > loaded.Model.Config.BlockSize)
                return Problems.Invalid("input", $"[{index}] is {ids.Length} tokens; this model embeds at most " +
                    $"{loaded.Model.Config.BlockSize} (its block size).", Title);
            encoded.Add(ids);
        }

        using var ticket = gate.TryAdmit();
        if (ticket is null)
            return GenerateApi.Busy(http);
        await ticket.StartAsync(cancellationToken);
        var vectors = await Task.Run(() => encoded.Select(ids => loaded.Model.Embed(ids, loaded.Adapter)).ToList(),
            cancellationToken);
        var base64 = body.EncodingFormat == "base64";
        var data = vectors.Select((vector, index) => new EmbeddingData("embedding", index, base64
            ? Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan()))
            : vector)).ToList();
        var tokens = encoded.Sum(e => e.Length);
        return TypedResults.Ok(new EmbeddingResponse("list", data, body.Model!, new EmbeddingUsage(tokens, tokens)));
    }
}
