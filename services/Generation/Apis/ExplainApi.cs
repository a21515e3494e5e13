using Microsoft.AspNetCore.Http.HttpResults;
using Generation.Serving;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Security;
using Platform.Contracts;
using Platform.ML;
using Platform.ServiceDefaults.Http;
using Platform.Tokenizers;

namespace Generation.Apis;

/// <summary>A prompt (an encoder-decoder's input) to explain, and optionally a continuation (target) whose likelihood
/// to explain.</summary>
public sealed record ExplainRequest(string? Model, string? Prompt, string? Target);

public sealed record ExplainedToken(int Position, int Id, string Text);
public sealed record ExplainedAlternative(int Id, string Text, double Logprob);
public sealed record ExplainedPrediction(int Position, int Id, string Text, double Logprob,
    IReadOnlyList<ExplainedAlternative> Top);

/// <summary>Gradient × input per prompt (source) token, and its share of the absolute total.</summary>
public sealed record SaliencyScore(int Position, int Id, string Text, double Score, double Share);
public sealed record ExplainedSaliency(string Of, IReadOnlyList<SaliencyScore> Scores);

/// <summary>
/// What the model did with the input. Attention is [layer][head][query][key] over Tokens (a GPT's prompt and target; an
/// encoder-decoder's decoder positions, &lt;s&gt; first); an encoder-decoder adds its encoder's attention over
/// SourceTokens and its cross-attention [layer][head][decoder position][source position].
/// </summary>
public sealed record ExplainResponse(
    string Model, int Version, string Architecture, IReadOnlyList<ExplainedToken> Tokens, int PromptTokens,
    float[][][][] Attention, IReadOnlyList<ExplainedPrediction> Predictions, ExplainedPrediction Next,
    ExplainedSaliency Saliency,
    IReadOnlyList<ExplainedToken>? SourceTokens, float[][][][]? EncoderAttention, float[][][][]? CrossAttention);

/// <summary>
/// Explanations of a served model's output: every layer's and head's attention, each token's log-probability with the
/// five likeliest alternatives, and gradient × input saliency of the prompt's tokens. Bounded by MaxExplainTokens and
/// MaxExplainAttentionValues (413 beyond); it takes a decoding slot like a generation.
/// </summary>
public static class ExplainApi
{
    public static IEndpointRouteBuilder MapExplainApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/explain", ExplainAsync).WithTags("Generation");
        return app;
    }

    private static async Task<Results<Ok<ExplainResponse>, ProblemHttpResult>> ExplainAsync(HttpContext http,
        ModelResolver resolver, GenerationGate gate, IOptions<GenerationOptions> options,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<ExplainRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var o = options.Value;
        var errors = new ValidationErrors();
        errors.Require(ModelReference.Parse(body!.Model) is not null, "model", $"must be {ModelReference.Forms}.");
        errors.Require(!string.IsNullOrEmpty(body.Prompt), "prompt", "is required.");
        errors.Require((body.Prompt?.Length ?? 0) + (body.Target?.Length ?? 0) <= o.MaxPromptCharacters, "prompt",
            $"and target together must be at most {o.MaxPromptCharacters} characters.");
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The explain request is invalid.");

        var (resolved, notFound) = await resolver.ResolveAsync(ModelReference.Parse(body.Model)!, http.Caller(),
            cancellationToken);
        if (notFound is not null)
            return notFound;
        using var _ = resolved;
        var loaded = resolved!.Loaded;
        var (prompt, unencodable) = ModelResolver.EncodePrompt(resolved, body.Prompt!);
        if (unencodable is not null)
            return unencodable;
        int[] target;
        try
        {
            target = string.IsNullOrEmpty(body.Target) ? [] : loaded.Tokenizer.Encode(body.Target, cancellationToken);
        }
        catch (Exception ex) when (ex is UnknownTokenException or ArgumentException)
        {
            return Problems.Invalid("target", ex.Message, "The target cannot be encoded.");
        }

        // The size limit: tokens read, and attention values returned (layers × heads × positions², per map).
        var (positions, values, limitOf) = loaded.EncoderDecoder is { } e
            ? (Math.Max(prompt!.Length, target.Length + 1),
               (long)e.Config.NHead * (e.Config.NEncoderLayer * (long)prompt.Length * prompt.Length
                                       + e.Config.NDecoderLayer * (long)(target.Length + 1)
                                       * (target.Length + 1 + prompt.Length)),
               Math.Min(e.Config.MaxSourceLength, e.Config.MaxTargetLength))
            : (prompt!.Length + target.Length, (long)loaded.Model.Config.NLayer * loaded.Model.Config.NHead
            * (prompt.Length + target.Length) * (prompt.Length + target.Length),
               loaded.Model.Config.BlockSize);
        if (positions > Math.Min(o.MaxExplainTokens, limitOf) || values > o.MaxExplainAttentionValues)
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too much to explain.",
                detail: $"The prompt and target make {positions} positions and {values:N0} attention values; " +
                $"explanations cover at most " +
                        $"{Math.Min(o.MaxExplainTokens, limitOf)} positions and {o.MaxExplainAttentionValues:N0} " +
                        $"attention values.",
                extensions: new Dictionary<string, object?>
                {
                    ["errors"] = new Dictionary<string, string[]> { ["prompt"] = ["is too long to explain."] },
                    // What a client needs to trim its request to fit (the dashboard explains a long completion's
                    // window).
                    ["promptTokens"] = prompt.Length,
                    ["targetTokens"] = target.Length,
                    ["maxPositions"] = Math.Min(o.MaxExplainTokens, limitOf),
                });

        using var ticket = gate.TryAdmit();
        if (ticket is null)
            return GenerateApi.Busy(http);
        await ticket.StartAsync(cancellationToken);
        var explanation = await Task.Run(() => loaded.EncoderDecoder is { } model
            ? Explainer.Explain(model, prompt, target)
            : Explainer.Explain(loaded.Model, prompt, target, loaded.Adapter), cancellationToken);

        var tokenizer = loaded.Tokenizer;
        var source = loaded.SourceTokenizer;
        string Text(ITokenizer t, int id) => t.Decode([id]);
        ExplainedPrediction Prediction(TokenPrediction p) =>
            new(p.Position, p.Id, Text(tokenizer, p.Id), p.LogProbability,
            p.Top.Select(a => new ExplainedAlternative(a.Id, Text(tokenizer, a.Id), a.LogProbability)).ToList());
        var salientIds = explanation.SourceTokens ?? explanation.Tokens;
        var salientTokenizer = explanation.SourceTokens is null ? tokenizer : source;
        var total = explanation.Saliency.Sum(v => Math.Abs((double)v));
        var saliency = new ExplainedSaliency(explanation.SaliencyOf, explanation.Saliency.Select((v, i) =>
            new SaliencyScore(i, salientIds[i], Text(salientTokenizer, salientIds[i]), v, total > 0
            ? Math.Abs(v) / total : 0)).ToList());
        return TypedResults.Ok(new ExplainResponse(resolved.Model.Name, resolved.Model.Version,
            resolved.Model.Architecture,
            explanation.Tokens.Select((id, i) => new ExplainedToken(i, id, Text(tokenizer, id))).ToList(),
            explanation.PromptLength,
            explanation.Attention, explanation.Predictions.Select(Prediction).ToList(), Prediction(explanation.Next),
            saliency,
            explanation.SourceTokens?.Select((id, i) => new ExplainedToken(i, id, Text(source, id))).ToList(),
            explanation.EncoderAttention, explanation.CrossAttention));
    }
}
