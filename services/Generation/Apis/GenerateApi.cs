using Generation.Data;
using Generation.Serving;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ML;
using Platform.ServiceDefaults.Http;
using Platform.Tokenizers;

namespace Generation.Apis;

public sealed record GenerateRequest(string? Model, string? Prompt, int? MaxTokens, double? Temperature, int? TopK, long? Seed);

public sealed record GenerateResponse(string Text, string Model, int Version, int PromptTokens, int CompletionTokens, long Seed, string FinishReason);

public static class GenerateApi
{
    public const int DefaultMaxTokens = 200;

    public static IEndpointRouteBuilder MapGenerateApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/generate", GenerateAsync).WithTags("Generation");
        app.MapGet("/api/generate/models", ListModelsAsync).WithTags("Generation");
        return app;
    }

    private static async Task<IResult> GenerateAsync(HttpRequest request, GenerationDbContext db, ModelCache cache, GenerationGate gate,
        IOptions<GenerationOptions> options, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<GenerateRequest>(request, cancellationToken);
        if (problem is not null)
            return problem;
        var o = options.Value;
        var errors = new ValidationErrors();
        var reference = ModelReference.Parse(body!.Model);
        errors.Require(reference is not null, "model", "must be a model name or 'name/versions/N'.");
        errors.Require(!string.IsNullOrEmpty(body.Prompt), "prompt", "is required and must not be empty.");
        errors.Require((body.Prompt?.Length ?? 0) <= o.MaxPromptCharacters, "prompt", $"must be at most {o.MaxPromptCharacters:N0} characters.");
        var maxTokens = body.MaxTokens ?? DefaultMaxTokens;
        errors.Range(maxTokens, 1, o.MaxNewTokens, "maxTokens");
        var temperature = body.Temperature ?? 1.0;
        errors.Range(temperature, 0, o.MaxTemperature, "temperature");
        errors.Range(body.TopK ?? 0, 0, 1_000_000, "topK");
        errors.Require(body.Seed is null or >= 0, "seed", "must be a non-negative integer.");
        if (!errors.IsValid)
            return Results.ValidationProblem(errors.ToDictionary(), title: "The generation request is invalid.");

        var query = db.Models.AsNoTracking().Where(m => m.Name == reference!.Name);
        if (reference!.Version is { } v)
            query = query.Where(m => m.Version == v);
        var servable = await query.OrderByDescending(m => m.Version).FirstOrDefaultAsync(cancellationToken);
        if (servable is null)
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Model not found.",
                detail: reference.Version is null ? $"No model is named '{reference.Name}'." : $"Model '{reference.Name}' has no version {reference.Version}.");

        LoadedModel loaded;
        try
        {
            loaded = await cache.GetAsync(servable);
        }
        catch (Exception ex) when (ex is InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
        {
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Model cannot be loaded.", detail: ex.Message);
        }

        int[] prompt;
        try
        {
            prompt = loaded.Tokenizer.Encode(body.Prompt!);
        }
        catch (UnknownTokenException ex)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["prompt"] = [ex.Message] }, title: "The prompt cannot be encoded.");
        }

        var seed = body.Seed ?? Random.Shared.NextInt64(0, int.MaxValue);
        var sampling = new SamplingOptions(maxTokens, temperature, body.TopK, seed);
        var completion = await gate.RunAsync(() => Sampler.Generate(loaded.Model, prompt, sampling, cancellationToken), cancellationToken);
        return Results.Ok(new GenerateResponse(loaded.Tokenizer.Decode(completion), servable.Name, servable.Version,
            prompt.Length, completion.Length, seed, "length"));
    }

    private static async Task<IResult> ListModelsAsync(GenerationDbContext db, CancellationToken cancellationToken) =>
        Results.Ok(await db.Models.AsNoTracking().OrderBy(m => m.Name).ThenBy(m => m.Version)
            .Select(m => new { m.Name, m.Version, m.RunId, m.RegisteredAt }).ToListAsync(cancellationToken));
}
