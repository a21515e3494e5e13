using Microsoft.AspNetCore.Http.HttpResults;
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
/// prompt) are extensions. The prompt is a string or an array of strings (up to
/// <see cref="CompletionsApi.MaxPrompts"/>, each with its n choices; token arrays are refused).
/// </summary>
public sealed record CompletionRequest(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("prompt")] JsonElement? Prompt,
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
    [property: JsonPropertyName("valid_utf8")] bool? ValidUtf8 = null,
    [property: JsonPropertyName("stream_options")] StreamOptions? StreamOptions = null);

/// <summary>OpenAI's stream options: include_usage adds a last chunk, with no choices, that carries the usage (the
/// chunks before it carry "usage": null).</summary>
public sealed record StreamOptions([property: JsonPropertyName("include_usage")] bool? IncludeUsage);

/// <summary>Log-probabilities of the chosen tokens and, per position, of the logprobs likeliest tokens (by their text;
/// null where beam search chose).</summary>
public sealed record CompletionLogprobs(
    IReadOnlyList<string> Tokens,
    [property: JsonPropertyName("token_logprobs")] IReadOnlyList<double> TokenLogprobs,
    [property: JsonPropertyName("top_logprobs")] IReadOnlyList<IReadOnlyDictionary<string, double>?> TopLogprobs,
    [property: JsonPropertyName("text_offset")] IReadOnlyList<int> TextOffset);

public sealed record CompletionChoice(string Text, int Index, CompletionLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason")] string FinishReason);

public sealed record CompletionUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

/// <summary>OpenAI's text completion object.</summary>
public sealed record CompletionResponse(string Id, string Object, long Created, string Model,
    IReadOnlyList<CompletionChoice> Choices, CompletionUsage Usage);

/// <summary>An entry of GET /v1/models; "architecture" (gpt, encoder-decoder) is an extension.</summary>
public sealed record ModelEntry(string Id, string Object, long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy, string Architecture);

public sealed record ModelList(string Object, IEnumerable<ModelEntry> Data);

/// <summary>POST /v1/completions and GET /v1/models, shaped like OpenAI's API (streaming as Server-Sent
/// Events).</summary>
public static class CompletionsApi
{
    public const int MaxPrompts = 8;

    private static readonly JsonSerializerOptions SnakeCase = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower
    };

    public static IEndpointRouteBuilder MapCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/completions", CompleteAsync).WithTags("OpenAI");
        app.MapGet("/v1/models", ListModelsAsync).WithTags("OpenAI");
        // A version's id holds slashes ("name/versions/2"): the rest of the path is the id.
        app.MapGet("/v1/models/{**id}", GetModelAsync).WithTags("OpenAI");
        return app;
    }

    private static async Task<Results<Ok<CompletionResponse>, EmptyHttpResult, ProblemHttpResult>> CompleteAsync(
        HttpContext http, ModelResolver resolver, CompletionScheduler scheduler, IOptions<GenerationOptions> options,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<CompletionRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        // Stops beyond the limit are named by the request's own validation.
        var stop = StringOrArray.Read(body!.Stop, int.MaxValue);
        var prompts = StringOrArray.Read(body.Prompt, MaxPrompts);
        var request = new SamplingRequest(body.Model, prompts is [var first, ..] ? first : null,
            body.MaxTokens ?? 16, body.Temperature, body.TopK, body.TopP, body.Seed,
            body.FrequencyPenalty, body.PresencePenalty, stop ?? [], body.N)
        {
            NumBeams = body.NumBeams,
            LengthPenalty = body.LengthPenalty,
            EarlyStopping = body.EarlyStopping,
            NoRepeatNgramSize = body.NoRepeatNgramSize,
            ValidUtf8 = body.ValidUtf8,
            TopLogprobs = body.Logprobs ?? 0,
        };
        var errors = request.Validate(options.Value, snakeCase: true);
        if (prompts is null)
            errors.Add("prompt",
                $"must be a string or an array of 1 to {MaxPrompts} strings (token arrays are not accepted).");
        prompts ??= [];
        foreach (var later in prompts.Skip(1))
            SamplingRequest.CheckPrompt(errors, later, options.Value);
        if (stop is null)
            errors.Add("stop", "must be a string or an array of strings.");
        errors.Range(body.Logprobs ?? 0, 0, 5, "logprobs");
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The completion request is invalid.");

        var (prepared, notPrepared) = await resolver.PrepareAsync(request, http.Caller(), snakeCase: true, "prompt",
            "The completion request is invalid.", cancellationToken);
        if (notPrepared is not null)
            return notPrepared;
        var (resolved, firstIds, beam) = prepared!;
        using var _ = resolved;
        var encoded = new List<int[]> { firstIds };
        foreach (var later in prompts.Skip(1))
        {
            var (ids, unencodable) = ModelResolver.EncodePrompt(resolved, later);
            if (unencodable is not null)
                return unencodable;
            encoded.Add(ids!);
        }

        var id = $"cmpl-{Guid.NewGuid():N}";
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // The prompts are completed one after another, each with its n choices (indices prompt × n + choice): a request
        // holds at most n places in the batch. The first that finds no place answers 429; a later one waits for one.
        if (await scheduler.StartAsync(resolved, firstIds, request, beam, cancellationToken) is not { } running)
            return GenerateApi.Busy(http);
        async Task<RunningCompletions> StartAsync(int index)
        {
            if (index == 0)
                return running;
            var next = request with { Prompt = prompts[index] };
            while (true)
            {
                if (await scheduler.StartAsync(resolved, encoded[index], next, beam, cancellationToken) is
                    { } started)
                    return started;
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
        }
        var model = request.Model!;
        var n = request.N ?? 1;
        var promptTokens = encoded.Sum(e => e.Length);
        if (body.Stream == true)
        {
            await StreamAsync(http, encoded.Count, StartAsync, new StreamedCompletion(id, created, model, n,
                promptTokens, body.StreamOptions?.IncludeUsage == true), cancellationToken);
            return TypedResults.Empty;
        }

        var choices = new List<CompletionChoice>();
        var completionTokens = 0;
        for (var index = 0; index < encoded.Count; index++)
        {
            var completed = await StartAsync(index);
            await completed.RunToEndAsync(cancellationToken);
            choices.AddRange(completed.Runners.Select((runner, choice) => new CompletionChoice(runner.Text,
                index * n + choice, body.Logprobs is > 0 ? Logprobs(resolved.Loaded.Tokenizer, runner) : null,
                runner.FinishReason)));
            completionTokens += completed.Runners.Sum(r => r.Tokens.Count);
        }
        return TypedResults.Ok(new CompletionResponse(id, "text_completion", created, model, choices,
            new CompletionUsage(promptTokens, completionTokens, promptTokens + completionTokens)));
    }

    /// <summary>Per-token log-probabilities of the chosen tokens, and of the likeliest ones at each position (two ids
    /// with one text keep the likelier).</summary>
    private static CompletionLogprobs Logprobs(ITokenizer tokenizer, CompletionRunner runner)
    {
        var top = runner.Tokens.Select(t => t.Top is null ? null : (IReadOnlyDictionary<string, double>)t.Top
            .GroupBy(a => tokenizer.Decode([a.Id]))
            .ToDictionary(g => g.Key, g => g.Max(a => a.LogProbability))).ToList();
        var tokens = runner.Tokens.Select(t => tokenizer.Decode([t.Id])).ToList();
        var offsets = new List<int>();
        var offset = 0;
        foreach (var token in tokens)
        {
            offsets.Add(offset);
            offset += token.Length;
        }
        return new CompletionLogprobs(tokens, runner.Tokens.Select(t => t.LogProbability).ToList(), top, offsets);
    }

    /// <summary>What every chunk of one streamed completion repeats, and whether its usage follows.</summary>
    private sealed record StreamedCompletion(string Id, long Created, string Model, int N, int PromptTokens,
        bool IncludeUsage);

    private static async Task StreamAsync(HttpContext http, int prompts, Func<int, Task<RunningCompletions>> start,
        StreamedCompletion stream, CancellationToken cancellationToken)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        async Task WriteAsync(object chunk)
        {
            await http.Response.WriteAsync($"data: {JsonSerializer.Serialize(chunk, SnakeCase)}\n\n",
                cancellationToken);
            await http.Response.Body.FlushAsync(cancellationToken);
        }
        var completionTokens = 0;
        for (var prompt = 0; prompt < prompts; prompt++)
        {
            var running = await start(prompt);
            // Each text delta is written and flushed as it arrives; the n completions' chunks interleave as they
            // decode.
            await foreach (var (choice, text, finish) in running.ReadAllAsync(cancellationToken))
            {
                var index = prompt * stream.N + choice;
                var choices = new[] { new { text, index, logprobs = (object?)null, finish_reason = finish } };
                object chunk = stream.IncludeUsage
                    ? new
                    {
                        stream.Id,
                        @object = "text_completion",
                        stream.Created,
                        stream.Model,
                        choices,
                        usage = (CompletionUsage?)null
                    }
                    : new { stream.Id, @object = "text_completion", stream.Created, stream.Model, choices };
                await WriteAsync(chunk);
            }
            completionTokens += running.Runners.Sum(r => r.Tokens.Count);
        }
        if (stream.IncludeUsage)
            await WriteAsync(new
            {
                stream.Id,
                @object = "text_completion",
                stream.Created,
                stream.Model,
                choices = Array.Empty<object>(),
                usage = new CompletionUsage(stream.PromptTokens, completionTokens,
                    stream.PromptTokens + completionTokens),
            });
        await http.Response.WriteAsync("data: [DONE]\n\n", cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);
    }

    private static async Task<Ok<ModelList>> ListModelsAsync(HttpContext http, GenerationDbContext db,
        CancellationToken cancellationToken) =>
        TypedResults.Ok(new ModelList("list", await ServedModelsAsync(http, db, cancellationToken)));

    /// <summary>One entry of the list, by its id; 404 for one the caller cannot use, as for one that does not
    /// exist.</summary>
    private static async Task<Results<Ok<ModelEntry>, ProblemHttpResult>> GetModelAsync(string id, HttpContext http,
        GenerationDbContext db, CancellationToken cancellationToken)
    {
        // Clients escape the id as one path segment; the server leaves "%2F" in the path as it came.
        id = Uri.UnescapeDataString(id);
        return (await ServedModelsAsync(http, db, cancellationToken)).FirstOrDefault(m => m.Id == id) is { } model
            ? TypedResults.Ok(model)
            : Problems.NotFound("Model not found.", $"No model '{id}' is served to this key.");
    }

    /// <summary>The versions the caller may use (see <see cref="ModelResolver.ResolveAsync"/>), by id, name and
    /// alias.</summary>
    private static async Task<List<ModelEntry>> ServedModelsAsync(HttpContext http, GenerationDbContext db,
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
        // version it points to.
        var data = versions.Select(v => (Id: $"{v.Name}/versions/{v.Version}", Version: v))
            .Concat(versions.GroupBy(v => v.Name).Select(g => (Id: g.Key, Version: g.MaxBy(v => v.Version)!)))
            .Concat(aliases.Select(a =>
            (Id: $"{a.Name}@{a.Alias}",
            Version: versions.FirstOrDefault(v => v.Name == a.Name && v.Version == a.Version)!))
                .Where(e => e.Version is not null))
            .OrderBy(e => e.Id, StringComparer.Ordinal)
            .Select(e => new ModelEntry(e.Id, "model", e.Version.RegisteredAt.ToUnixTimeSeconds(),
                e.Version.OwnerName ?? "platform", e.Version.Architecture));
        return data.ToList();
    }
}
