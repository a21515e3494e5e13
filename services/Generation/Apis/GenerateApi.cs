using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Security;
using Platform.Contracts;
using Generation.Serving;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Http;

namespace Generation.Apis;

/// <summary>A GPT continues Prompt; an encoder-decoder transforms Input (or Prompt), with beam search by
/// default.</summary>
public sealed record GenerateRequest(string? Model, string? Prompt, int? MaxTokens, double? Temperature, int? TopK,
    long? Seed,
    double? TopP, double? FrequencyPenalty, double? PresencePenalty, string[]? Stop, int? N, bool? Logprobs,
    string? Input = null, int? NumBeams = null, double? LengthPenalty = null, bool? EarlyStopping = null,
    int? NoRepeatNgramSize = null,
    bool? ValidUtf8 = null)
{
    public SamplingRequest ToSampling() =>
        new(Model, Input ?? Prompt, MaxTokens, Temperature, TopK, TopP, Seed, FrequencyPenalty, PresencePenalty, Stop,
        N)
        {
            NumBeams = NumBeams,
            LengthPenalty = LengthPenalty,
            EarlyStopping = EarlyStopping,
            NoRepeatNgramSize = NoRepeatNgramSize,
            ValidUtf8 = ValidUtf8,
        };
}

/// <summary>One completion; with logprobs, each token's log-probability.</summary>
public sealed record GeneratedCompletion(string Text, int CompletionTokens, string FinishReason,
    IReadOnlyList<double>? TokenLogprobs);

/// <summary>The first completion's text and figures at the top level; all of them (n ≥ 1) under Completions.</summary>
public sealed record GenerateResponse(string Text, string Model, int Version, int PromptTokens, int CompletionTokens,
    long Seed, string FinishReason,
    IReadOnlyList<GeneratedCompletion> Completions);

/// <summary>The platform's native endpoint: one completion, the same options as /v1/completions.</summary>
public static class GenerateApi
{
    public static IEndpointRouteBuilder MapGenerateApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/generate", GenerateAsync).WithTags("Generation");
        return app;
    }

    private static async Task<Results<Ok<GenerateResponse>, ProblemHttpResult>> GenerateAsync(HttpContext http,
        ModelResolver resolver, CompletionScheduler scheduler, IOptions<GenerationOptions> options,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<GenerateRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var request = body!.ToSampling();
        var errors = request.Validate(options.Value, snakeCase: false);
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The generation request is invalid.");

        var (prepared, notPrepared) = await resolver.PrepareAsync(request, http.Caller(), snakeCase: false,
            body.Input is null ? "prompt" : "input",
            "The generation request is invalid.", cancellationToken);
        if (notPrepared is not null)
            return notPrepared;
        var (resolved, prompt, beam) = prepared!;
        using var _ = resolved;

        if (await scheduler.StartAsync(resolved, prompt!, request, beam, cancellationToken) is not { } running)
            return Busy(http);
        await running.RunToEndAsync(cancellationToken);
        var completions = running.Runners.Select(runner =>
            new GeneratedCompletion(runner.Text, runner.Tokens.Count, runner.FinishReason,
            body.Logprobs == true ? runner.Tokens.Select(t => t.LogProbability).ToList() : null)).ToList();
        var first = completions[0];
        return TypedResults.Ok(new GenerateResponse(first.Text, resolved.Model.Name, resolved.Model.Version,
            prompt!.Length,
            first.CompletionTokens, running.Seed, first.FinishReason, completions));
    }

    internal static ProblemHttpResult Busy(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many generations in progress.",
            detail: "Every decoding slot and queue place is taken; retry after a second.");
    }
}
