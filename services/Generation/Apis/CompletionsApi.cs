using Platform.Contracts;
using System.Text.Json;
using System.Text.Json.Serialization;
using Generation.Data;
using Generation.Serving;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;
using Platform.Tokenizers;

namespace Generation.Apis;

/// <summary>
/// OpenAI's completions request (snake_case); top_k and the beam settings (encoder-decoder models, whose source is the
/// prompt) are extensions.
/// </summary>
public sealed record CompletionRequest(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("prompt")] string? Prompt,
    [property: JsonPropertyName("max_tokens")] int? MaxTokens,
    [property: JsonPropertyName("temperature")] double? Temperature,
    [property: JsonPropertyName("top_p")] double? TopP,
    [property: JsonPropertyName("top_k")] int? TopK,
    [property: JsonPropertyName("n")] int? N,
    [property: JsonPropertyName("stream")] bool? Stream,
    [property: JsonPropertyName("logprobs")] int? Logprobs,
    [property: JsonPropertyName("stop")] JsonElement? Stop,
    [property: JsonPropertyName("presence_penalty")] double? PresencePenalty,
    [property: JsonPropertyName("frequency_penalty")] double? FrequencyPenalty,
    [property: JsonPropertyName("seed")] long? Seed,
    [property: JsonPropertyName("num_beams")] int? NumBeams = null,
    [property: JsonPropertyName("length_penalty")] double? LengthPenalty = null,
    [property: JsonPropertyName("early_stopping")] bool? EarlyStopping = null,
    [property: JsonPropertyName("no_repeat_ngram_size")] int? NoRepeatNgramSize = null,
    [property: JsonPropertyName("valid_utf8")] bool? ValidUtf8 = null);

/// <summary>POST /v1/completions and GET /v1/models, shaped like OpenAI's API (streaming as Server-Sent
/// Events).</summary>
public static class CompletionsApi
{
    private static readonly JsonSerializerOptions SnakeCase = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower
    };

    public static IEndpointRouteBuilder MapCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/completions", CompleteAsync).WithTags("OpenAI");
        app.MapGet("/v1/models", ListModelsAsync).WithTags("OpenAI");
        return app;
    }

    private static async Task<IResult> CompleteAsync(HttpContext http, ModelResolver resolver,
        CompletionScheduler scheduler,
        IOptions<GenerationOptions> options, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<CompletionRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var stop = ReadStop(body!.Stop, out var stopError);
        var request = new SamplingRequest(body.Model, body.Prompt, body.MaxTokens ?? 16, body.Temperature, body.TopK,
            body.TopP, body.Seed,
            body.FrequencyPenalty, body.PresencePenalty, stop, body.N)
        {
            NumBeams = body.NumBeams,
            LengthPenalty = body.LengthPenalty,
            EarlyStopping = body.EarlyStopping,
            NoRepeatNgramSize = body.NoRepeatNgramSize,
            ValidUtf8 = body.ValidUtf8,
        };
        var errors = request.Validate(options.Value, snakeCase: true);
        if (stopError is not null)
            errors.Add("stop", stopError);
        errors.Range(body.Logprobs ?? 0, 0, 5, "logprobs");
        if (!errors.IsValid)
            return Results.ValidationProblem(errors.ToDictionary(), title: "The completion request is invalid.");

        var (prepared, notPrepared) = await resolver.PrepareAsync(request, http.Caller(), snakeCase: true, "prompt",
            "The completion request is invalid.", cancellationToken);
        if (notPrepared is not null)
            return notPrepared;
        var (resolved, prompt, beam) = prepared!;
        using var _ = resolved;

        var id = $"cmpl-{Guid.NewGuid():N}";
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (await scheduler.StartAsync(resolved.Loaded, prompt!, request, beam, cancellationToken) is not { } running)
            return GenerateApi.Busy(http);
        var model = request.Model!;
        if (body.Stream == true)
        {
            await StreamAsync(http, running, id, created, model, cancellationToken);
            return Results.Empty;
        }

        await running.RunToEndAsync(cancellationToken);
        var choices = running.Runners.Select((runner, index) => new
        {
            text = runner.Text,
            index,
            logprobs = body.Logprobs is > 0 ? Logprobs(resolved.Loaded.Tokenizer, runner) : null,
            finish_reason = runner.FinishReason,
        }).ToList();
        var completionTokens = running.Runners.Sum(r => r.Tokens.Count);
        return Results.Json(new
        {
            id,
            @object = "text_completion",
            created,
            model,
            choices,
            usage = new
            {
                prompt_tokens = prompt!.Length,
                completion_tokens = completionTokens,
                total_tokens = prompt.Length + completionTokens
            },
        });
    }

    /// <summary>Per-token log-probabilities of the chosen tokens (top alternatives are not reported).</summary>
    private static object Logprobs(ITokenizer tokenizer, CompletionRunner runner)
    {
        var tokens = runner.Tokens.Select(t => tokenizer.Decode([t.Id])).ToList();
        var offsets = new List<int>();
        var offset = 0;
        foreach (var token in tokens)
        {
            offsets.Add(offset);
            offset += token.Length;
        }
        return new
        {
            tokens,
            token_logprobs = runner.Tokens.Select(t => t.LogProbability),
            top_logprobs = (object?)null,
            text_offset = offsets
        };
    }

    private static async Task StreamAsync(HttpContext http, RunningCompletions running, string id, long created,
        string model,
        CancellationToken cancellationToken)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        // Each text delta is written and flushed as it arrives; the n completions' chunks interleave as they decode.
        await foreach (var (index, text, finish) in running.ReadAllAsync(cancellationToken))
        {
            var chunk = new
            {
                id,
                @object = "text_completion",
                created,
                model,
                choices = new[] { new { text, index, logprobs = (object?)null, finish_reason = finish } },
            };
            await http.Response.WriteAsync($"data: {JsonSerializer.Serialize(chunk, SnakeCase)}\n\n",
                cancellationToken);
            await http.Response.Body.FlushAsync(cancellationToken);
        }
        await http.Response.WriteAsync("data: [DONE]\n\n", cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>OpenAI's stop: a string or an array of strings.</summary>
    private static IReadOnlyList<string> ReadStop(JsonElement? stop, out string? error)
    {
        error = null;
        switch (stop?.ValueKind)
        {
            case null or JsonValueKind.Null or JsonValueKind.Undefined:
                return [];
            case JsonValueKind.String:
                return [stop.Value.GetString()!];
            case JsonValueKind.Array when stop.Value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String):
                return stop.Value.EnumerateArray().Select(e => e.GetString()!).ToList();
            default:
                error = "must be a string or an array of strings.";
                return [];
        }
    }

    /// <summary>The versions the caller may use (see <see cref="ModelResolver.ResolveAsync"/>), by id, name and
    /// alias.</summary>
    private static async Task<IResult> ListModelsAsync(HttpContext http, GenerationDbContext db,
        CancellationToken cancellationToken)
    {
        var all = await db.Models.AsNoTracking().OrderBy(m => m.Name).ThenBy(m => m.Version)
            .ToListAsync(cancellationToken);
        var readable = await db.ReadableAmongAsync(http.Caller(), all.SelectMany(m => m.Lineage ?? []),
            cancellationToken);
        var versions = all.Where(m => readable.Covers(m.Lineage)).ToList();
        var aliases = await db.Set<ProjectedAlias>().AsNoTracking().Where(a =>
            a.Version != null).ToListAsync(cancellationToken);
        // Each version by its own id, each name for its latest version, and each alias ("name@production") for the
        // version it points to; "architecture" (gpt, encoder-decoder) is an extension.
        var data = versions.Select(v => (Id: $"{v.Name}/versions/{v.Version}", Version: v))
            .Concat(versions.GroupBy(v => v.Name).Select(g => (Id: g.Key, Version: g.MaxBy(v => v.Version)!)))
            .Concat(aliases.Select(a =>
            (Id: $"{a.Name}@{a.Alias}",
            Version: versions.FirstOrDefault(v => v.Name == a.Name && v.Version == a.Version)!))
                .Where(e => e.Version is not null))
            .OrderBy(e => e.Id, StringComparer.Ordinal)
            .Select(e => new
            {
                id = e.Id,
                @object = "model",
                created = e.Version.RegisteredAt.ToUnixTimeSeconds(),
                owned_by = e.Version.OwnerName ?? "platform",
                architecture = e.Version.Architecture,
            });
        return Results.Ok(new { @object = "list", data });
    }
}
