using System.Text.Encodings.Web;
using System.Text.Json;

namespace Platform.Tokenizers;

/// <summary>
/// A conversation dataset's lines: OpenAI's fine-tuning format, one JSON object
/// <c>{"messages":[{"role":"system"|"user"|"assistant","content":"…"}, …]}</c> per line. Ingestion checks uploads
/// with <see cref="Parse"/> and stores each split in the same form; Tokenization reads them back with
/// <see cref="Read"/>.
/// </summary>
public static class ChatLines
{
    private sealed record Line(IReadOnlyList<ChatMessage> Messages);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping
    };

    public static string Format(IReadOnlyList<ChatMessage> messages) =>
        JsonSerializer.Serialize(new Line(messages), Json);

    /// <summary>A line's conversation, or why it is not one: it must be a JSON object whose "messages" is a non-empty
    /// array of {role, content} strings in the template's roles, with at least one assistant turn to learn
    /// from.</summary>
    public static (IReadOnlyList<ChatMessage>? Messages, string? Error) Parse(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return (null, "expected a JSON object {\"messages\": [...]}");
            if (!root.TryGetProperty("messages", out var array) || array.ValueKind != JsonValueKind.Array)
                return (null, "\"messages\" must be an array");
            if (array.GetArrayLength() == 0)
                return (null, "\"messages\" is empty");
            var messages = new List<ChatMessage>();
            foreach (var item in array.EnumerateArray())
            {
                var at = $"messages[{messages.Count}]";
                if (item.ValueKind != JsonValueKind.Object)
                    return (null, $"{at} must be an object with role and content");
                if (!item.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                    return (null, $"{at}.role must be a string");
                if (!item.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                    return (null, $"{at}.content must be a string");
                var message = new ChatMessage(role.GetString()!, content.GetString()!);
                if (ChatTemplate.Problem(message) is { } problem)
                    return (null, $"{at}: {problem}");
                messages.Add(message);
            }
            if (!messages.Any(m => m.Role == ChatTemplate.Assistant))
                return (null, "the conversation has no assistant message to learn from");
            return (messages, null);
        }
        catch (JsonException ex)
        {
            return (null, $"not valid JSON ({ex.Message.Split(" Path:")[0].TrimEnd('.')})");
        }
    }

    /// <summary>The stored conversations of a split, in order.</summary>
    public static IEnumerable<IReadOnlyList<ChatMessage>> Read(TextReader reader)
    {
        while (reader.ReadLine() is { } text)
        {
            if (text.Length == 0)
                continue;
            yield return JsonSerializer.Deserialize<Line>(text, Json)?.Messages
                ?? throw new InvalidDataException("A stored conversation has no messages.");
        }
    }
}
