using Generation.Data;
using Generation.Serving;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Http;
using Platform.Tokenizers;

namespace Generation.Apis;

public sealed record GenerateRequest(string? Model, string? Prompt, int? MaxTokens, double? Temperature, int? TopK, long? Seed,
    double? TopP, double? FrequencyPenalty, double? PresencePenalty, string[]? Stop)
{
    public SamplingRequest ToSampling() => new(Model, Prompt, MaxTokens, Temperature, TopK, TopP, Seed, FrequencyPenalty, PresencePenalty, Stop, 1);
}

public sealed record GenerateResponse(string Text, string Model, int Version, int PromptTokens, int CompletionTokens, long Seed, string FinishReason);

/// <summary>The platform's native endpoint: one completion, the same options as /v1/completions.</summary>
public static class GenerateApi
{
    public static IEndpointRouteBuilder MapGenerateApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/generate", GenerateAsync).WithTags("Generation");
        app.MapGet("/api/generate/models", ListModelsAsync).WithTags("Generation");
        return app;
    }

    private static async Task<IResult> GenerateAsync(HttpContext http, ModelResolver resolver, GenerationGate gate,
        IOptions<GenerationOptions> options, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<GenerateRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var request = body!.ToSampling();
        var errors = request.Validate(options.Value, snakeCase: false);
        if (!errors.IsValid)
            return Results.ValidationProblem(errors.ToDictionary(), title: "The generation request is invalid.");

        var (resolved, notFound) = await resolver.ResolveAsync(ModelReference.Parse(request.Model)!, cancellationToken);
        if (notFound is not null)
            return notFound;
        int[] prompt;
        try
        {
            prompt = resolved!.Loaded.Tokenizer.Encode(request.Prompt!);
        }
        catch (Exception ex) when (ex is UnknownTokenException or ArgumentException)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["prompt"] = [ex.Message] }, title: "The prompt cannot be encoded.");
        }

        using var ticket = gate.TryAdmit();
        if (ticket is null)
            return Busy(http);
        await ticket.StartAsync(cancellationToken);
        var seed = request.Seed ?? Random.Shared.NextInt64(0, int.MaxValue);
        var runner = new CompletionRunner(resolved.Loaded, request.Stop ?? []);
        await Task.Run(() => { foreach (var _ in runner.Run(prompt, request.ToOptions(seed, 0), cancellationToken)) { } }, cancellationToken);
        return Results.Ok(new GenerateResponse(runner.Text, resolved.Model.Name, resolved.Model.Version, prompt.Length,
            runner.Tokens.Count, seed, runner.FinishReason));
    }

    internal static IResult Busy(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "1";
        return Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many generations in progress.",
            detail: "Every decoding slot and queue place is taken; retry after a second.");
    }

    private static async Task<IResult> ListModelsAsync(GenerationDbContext db, CancellationToken cancellationToken) =>
        Results.Ok(await db.Models.AsNoTracking().OrderBy(m => m.Name).ThenBy(m => m.Version)
            .Select(m => new { m.Name, m.Version, m.RunId, m.RegisteredAt }).ToListAsync(cancellationToken));
}
