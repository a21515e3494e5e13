using System.Text.Json;

namespace Generation.Apis;

/// <summary>OpenAI's fields that take a string or an array of strings (prompt, stop, input).</summary>
public static class StringOrArray
{
    /// <summary>The strings: none when absent; null when the value is neither a string nor an array of at most
    /// <paramref name="max"/> strings.</summary>
    public static IReadOnlyList<string>? Read(JsonElement? value, int max) => value?.ValueKind switch
    {
        null or JsonValueKind.Null or JsonValueKind.Undefined => [],
        JsonValueKind.String => [value.Value.GetString()!],
        JsonValueKind.Array when value.Value.GetArrayLength() <= max
            && value.Value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
            value.Value.EnumerateArray().Select(e => e.GetString()!).ToList(),
        _ => null,
    };
}
