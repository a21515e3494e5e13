using System.Text.Json;

namespace Platform.Tokenizers;

/// <summary>Reads a saved tokenizer back, whatever its kind.</summary>
public static class TokenizerFile
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true };

    public static ITokenizer Load(Stream stream)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(stream);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The tokenizer file is not valid JSON: {ex.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException("The tokenizer file must be a JSON object.");
            // A Hugging Face tokenizer.json has a "model"; char tokenizers saved by earlier versions have a "kind".
            if (doc.RootElement.TryGetProperty("model", out _))
                return HuggingFaceTokenizerJson.Read(doc.RootElement);
            var kind = doc.RootElement.TryGetProperty("kind", out var k)
                || doc.RootElement.TryGetProperty("Kind", out k)
                ? k.GetString()
                : null;
            return kind switch
            {
                "char" => CharTokenizer.FromFile(doc.RootElement.Deserialize<CharTokenizerFile>(Options)!),
                _ => throw new InvalidDataException($"Unknown tokenizer kind '{kind}'."),
            };
        }
    }

    /// <summary>Whether an exception from <see cref="Load(Stream)"/> means the file is not a usable tokenizer (rather
    /// than an I/O fault).</summary>
    public static bool IsUnusable(Exception ex) =>
        ex is InvalidDataException or ArgumentException or KeyNotFoundException or InvalidOperationException
        or FormatException or JsonException;

    public static ITokenizer Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Load(stream);
    }
}
