using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Generation.Serving;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Security;
using Platform.Tokenizers;
using Platform.Tokenizers.Structured;

namespace Generation.Apis;

/// <summary>
/// OpenAI's chat completions request (snake_case). A message's content is a string or an array of text parts;
/// "developer" is read as "system". max_completion_tokens is OpenAI's newer name for max_tokens.
/// </summary>
public sealed record ChatCompletionRequest(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("messages")] JsonElement? Messages,
    [property: JsonPropertyName("max_tokens")] int? MaxTokens,
    [property: JsonPropertyName("max_completion_tokens")] int? MaxCompletionTokens,
    [property: JsonPropertyName("temperature")] double? Temperature,
    [property: JsonPropertyName("top_p")] double? TopP,
    [property: JsonPropertyName("n")] int? N,
    [property: JsonPropertyName("stream")] bool? Stream,
    [property: JsonPropertyName("stop")] JsonElement? Stop,
    [property: JsonPropertyName("seed")] long? Seed,
    [property: JsonPropertyName("presence_penalty")] double? PresencePenalty,
    [property: JsonPropertyName("frequency_penalty")] double? FrequencyPenalty,
    [property: JsonPropertyName("logprobs")] bool? Logprobs,
    [property: JsonPropertyName("top_logprobs")] int? TopLogprobs,
    [property: JsonPropertyName("response_format")] JsonElement? ResponseFormat,
    [property: JsonPropertyName("stream_options")] StreamOptions? StreamOptions = null);

public sealed record ChatReply(string Role, string Content, string? Refusal = null);

/// <summary>A token's log-probability as OpenAI's chat logprobs give it: its text, and that text's UTF-8
/// bytes.</summary>
public sealed record ChatTokenLogprob(string Token, double Logprob, IReadOnlyList<int> Bytes,
    [property: JsonPropertyName("top_logprobs")] IReadOnlyList<ChatTopLogprob> TopLogprobs);

public sealed record ChatTopLogprob(string Token, double Logprob, IReadOnlyList<int> Bytes);

public sealed record ChatLogprobs(IReadOnlyList<ChatTokenLogprob> Content);

public sealed record ChatChoice(int Index, ChatReply Message, ChatLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason")] string FinishReason);

/// <summary>OpenAI's chat completion object.</summary>
public sealed record ChatCompletionResponse(string Id, string Object, long Created, string Model,
    IReadOnlyList<ChatChoice> Choices, CompletionUsage Usage);

/// <summary>
/// POST /v1/chat/completions: the conversation is rendered with the version's chat template (a version trained on
/// conversations has one; any other is refused with 400), a reply is prompted, and each choice ends at the template's
/// end marker, a stop string or the token limit. Streams as Server-Sent Events of chat.completion.chunk objects. With
/// response_format, replies are decoded under a grammar (see <see cref="JsonSchemaGrammar"/>): each token that cannot
/// continue a valid document is masked before the draw, and the end marker is allowed once the document is whole.
/// </summary>
public static class ChatCompletionsApi
{
    public const int MaxMessages = 256, MaxTopLogprobs = 20;
    private const string Title = "The chat completion request is invalid.";

    private static readonly JsonSerializerOptions SnakeCase = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static IEndpointRouteBuilder MapChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", CompleteAsync).WithTags("OpenAI");
        return app;
    }

    private static async Task<Results<Ok<ChatCompletionResponse>, EmptyHttpResult, ProblemHttpResult>> CompleteAsync(
        HttpContext http, ModelResolver resolver, CompletionScheduler scheduler, IOptions<GenerationOptions> options,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<ChatCompletionRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors();
        var messages = ReadMessages(body!.Messages, errors);
        var stop = StringOrArray.Read(body.Stop, int.MaxValue);
        if (stop is null)
            errors.Add("stop", "must be a string or an array of strings.");
        if (body.MaxTokens is not null && body.MaxCompletionTokens is not null)
            errors.Add("max_completion_tokens", "replaces max_tokens: give one of them.");
        errors.Range(body.TopLogprobs ?? 0, 0, MaxTopLogprobs, "top_logprobs");
        errors.Require(body.TopLogprobs is null or 0 || body.Logprobs == true, "top_logprobs",
            "needs logprobs set to true.");
        var grammar = ReadResponseFormat(body.ResponseFormat, errors);
        // The contents stand for the prompt in the checks the completion APIs share (its length in characters).
        var request = new SamplingRequest(body.Model, string.Concat(messages.Select(m => m.Content)),
            body.MaxCompletionTokens ?? body.MaxTokens ?? SamplingRequest.DefaultMaxTokens, body.Temperature, null,
            body.TopP, body.Seed, body.FrequencyPenalty, body.PresencePenalty, stop ?? [], body.N)
        {
            TopLogprobs = body.Logprobs == true ? Math.Max(body.TopLogprobs ?? 0, 0) : 0,
        };
        foreach (var (field, reasons) in request.Validate(options.Value, snakeCase: true).ToDictionary())
            foreach (var reason in reasons)
                errors.Add(field switch
                {
                    "prompt" => "messages",
                    "max_tokens" when body.MaxCompletionTokens is not null => "max_completion_tokens",
                    _ => field,
                }, reason);
        if (!errors.IsValid)
            return Problems.Invalid(errors, Title);

        var (resolved, notFound) = await resolver.ResolveAsync(ModelReference.Parse(body.Model)!, http.Caller(),
            cancellationToken);
        if (resolved is null)
            return notFound!;
        using var _ = resolved;
        var version = $"{resolved.Model.Name} v{resolved.Model.Version}";
        if (resolved.Model.ChatTemplate is null || resolved.Loaded.EncoderDecoder is not null)
            return Problems.Invalid("model", $"{version} has no chat template: only a GPT trained or fine-tuned on a " +
                "conversation dataset (format=chat) serves chat completions. Use /v1/completions.", Title);
        int[] prompt;
        try
        {
            prompt = ChatTemplate.Encode(resolved.Loaded.Tokenizer, messages, promptReply: true).Ids;
        }
        catch (Exception ex) when (ex is UnknownTokenException or ArgumentException or InvalidDataException)
        {
            return Problems.Invalid("messages", ex.Message, "The conversation cannot be encoded.");
        }
        // The end marker ends each reply; it is counted in the usage but is not part of the text.
        var end = ChatTemplate.MarkersOf(resolved.Loaded.Tokenizer).End;
        if (grammar is not null)
        {
            try
            {
                TokenTrie.For(resolved.Loaded.Tokenizer);
                resolved.Loaded.Tokenizer.Encode(JsonSchemaGrammar.RequiredText(grammar), cancellationToken);
            }
            catch (NotSupportedException ex)
            {
                return Problems.Invalid("response_format", ex.Message, Title);
            }
            catch (UnknownTokenException ex)
            {
                return Problems.Invalid("response_format", $"{version}'s vocabulary cannot write the document: " +
                    ex.Message, Title);
            }
        }
        var running = await scheduler.StartAsync(resolved, prompt,
            request with { EndToken = end, Grammar = grammar }, null, cancellationToken);
        if (running is null)
            return GenerateApi.Busy(http);

        var id = $"chatcmpl-{Guid.NewGuid():N}";
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var model = body.Model!;
        if (body.Stream == true)
        {
            await StreamAsync(http, running, id, created, model, prompt.Length,
                body.StreamOptions?.IncludeUsage == true, cancellationToken);
            return TypedResults.Empty;
        }
        await running.RunToEndAsync(cancellationToken);
        var tokenizer = resolved.Loaded.Tokenizer;
        var choices = running.Runners.Select((runner, index) => new ChatChoice(index,
            new ChatReply(ChatTemplate.Assistant, runner.Text),
            body.Logprobs == true ? Logprobs(tokenizer, runner) : null, runner.FinishReason)).ToList();
        var completionTokens = running.Runners.Sum(r => r.Tokens.Count);
        return TypedResults.Ok(new ChatCompletionResponse(id, "chat.completion", created, model, choices,
            new CompletionUsage(prompt.Length, completionTokens, prompt.Length + completionTokens)));
    }

    /// <summary>
    /// The grammar a response_format asks for: none for text; any JSON object for json_object; the schema's for
    /// json_schema; one of a list of strings for the "choice" extension. A schema that cannot be enforced is refused
    /// at the path of its fault.
    /// </summary>
    private static GrammarNode? ReadResponseFormat(JsonElement? value, ValidationErrors errors)
    {
        const string field = "response_format";
        if (value is null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined })
            return null;
        var kinds = "text, json_object, json_schema or choice";
        if (value.Value.ValueKind != JsonValueKind.Object || !value.Value.TryGetProperty("type", out var type)
            || type.ValueKind != JsonValueKind.String)
        {
            errors.Add(field, $"must be an object whose type is {kinds}.");
            return null;
        }
        switch (type.GetString())
        {
            case "text":
                return null;
            case "json_object":
                return JsonSchemaGrammar.AnyObject;
            case "json_schema":
                if (!value.Value.TryGetProperty("json_schema", out var spec) || spec.ValueKind != JsonValueKind.Object
                    || !spec.TryGetProperty("schema", out var schema))
                {
                    errors.Add(field + ".json_schema.schema", "is required: the JSON schema replies must follow.");
                    return null;
                }
                var (grammar, error) = JsonSchemaGrammar.Compile(schema, field + ".json_schema.schema");
                if (error is not null)
                    errors.Add(error.Path, error.Reason);
                return grammar;
            case "choice":
                if (!value.Value.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array
                    || choices.GetArrayLength() is 0 or > JsonSchemaGrammar.MaxEnumValues
                    || choices.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String || c.GetString() is ""))
                {
                    errors.Add(field + ".choices",
                        $"must be 1 to {JsonSchemaGrammar.MaxEnumValues} non-empty strings.");
                    return null;
                }
                return JsonSchemaGrammar.Choices(choices.EnumerateArray().Select(c => c.GetString()!));
            default:
                errors.Add(field + ".type", $"must be {kinds} (got '{type.GetString()}').");
                return null;
        }
    }

    /// <summary>The conversation: an array of 1 to <see cref="MaxMessages"/> messages, each with a role the template
    /// knows and content that is a string or an array of text parts.</summary>
    private static List<ChatMessage> ReadMessages(JsonElement? value, ValidationErrors errors)
    {
        var messages = new List<ChatMessage>();
        if (value is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() is 0 or > MaxMessages)
        {
            errors.Add("messages", $"must be an array of 1 to {MaxMessages} messages.");
            return messages;
        }
        foreach (var item in array.EnumerateArray())
        {
            var field = $"messages[{messages.Count}]";
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            {
                errors.Add(field + ".role", "is required: system, developer, user or assistant.");
                messages.Add(new ChatMessage("", ""));
                continue;
            }
            var name = role.GetString() == "developer" ? ChatTemplate.System : role.GetString()!;
            var content = item.TryGetProperty("content", out var c) ? Content(c) : null;
            if (content is null)
                errors.Add(field + ".content", "must be a string or an array of text parts.");
            var message = new ChatMessage(name, content ?? "");
            if (ChatTemplate.Problem(message) is { } problem)
                errors.Add(ChatTemplate.Roles.Contains(name) ? field + ".content" : field + ".role", problem);
            messages.Add(message);
        }
        return messages;
    }

    /// <summary>A string, or the concatenated text of an array of {"type":"text","text":…} parts; null for anything
    /// else.</summary>
    private static string? Content(JsonElement content) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString(),
        JsonValueKind.Array when content.EnumerateArray().All(p => p.ValueKind == JsonValueKind.Object
            && p.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "text"
            && p.TryGetProperty("text", out var x) && x.ValueKind == JsonValueKind.String) =>
            string.Concat(content.EnumerateArray().Select(p => p.GetProperty("text").GetString())),
        _ => null,
    };

    private static ChatLogprobs Logprobs(ITokenizer tokenizer, CompletionRunner runner)
    {
        ChatTopLogprob Entry(int id, double logprob)
        {
            var text = tokenizer.Decode([id]);
            return new ChatTopLogprob(text, logprob, [.. Encoding.UTF8.GetBytes(text)]);
        }
        return new ChatLogprobs(runner.Tokens.Select(t =>
        {
            var chosen = Entry(t.Id, t.LogProbability);
            return new ChatTokenLogprob(chosen.Token, chosen.Logprob, chosen.Bytes,
                (t.Top ?? []).Select(a => Entry(a.Id, a.LogProbability)).ToList());
        }).ToList());
    }

    private static async Task StreamAsync(HttpContext http, RunningCompletions running, string id, long created,
        string model, int promptTokens, bool includeUsage, CancellationToken cancellationToken)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        async Task WriteAsync(object choices, CompletionUsage? usage = null)
        {
            object chunk = includeUsage
                ? new { id, @object = "chat.completion.chunk", created, model, choices, usage }
                : new { id, @object = "chat.completion.chunk", created, model, choices };
            await http.Response.WriteAsync($"data: {JsonSerializer.Serialize(chunk, SnakeCase)}\n\n",
                cancellationToken);
            await http.Response.Body.FlushAsync(cancellationToken);
        }
        // Each choice opens with its role, as OpenAI's streams do; text deltas follow as they decode, and its last
        // chunk carries an empty delta and the finish reason.
        for (var index = 0; index < running.Runners.Count; index++)
            await WriteAsync(new[]
            {
                new { index, delta = new { role = ChatTemplate.Assistant, content = "" }, logprobs = (object?)null,
                    finish_reason = (string?)null },
            });
        await foreach (var (index, text, finish) in running.ReadAllAsync(cancellationToken))
            await WriteAsync(new[]
            {
                new { index, delta = finish is null ? (object)new { content = text } : new { },
                    logprobs = (object?)null,
                    finish_reason = finish },
            });
        if (includeUsage)
        {
            var completionTokens = running.Runners.Sum(r => r.Tokens.Count);
            await WriteAsync(Array.Empty<object>(), new CompletionUsage(promptTokens, completionTokens,
                promptTokens + completionTokens));
        }
        await http.Response.WriteAsync("data: [DONE]\n\n", cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);
    }
}
