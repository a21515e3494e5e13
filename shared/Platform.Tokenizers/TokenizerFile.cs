using System.Text.Json;

namespace Platform.Tokenizers;

/// <summary>Reads a saved tokenizer back, whatever its kind.</summary>
public static class TokenizerFile
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true };

    public static ITokenizer Load(Stream stream)
    {
        using var doc = JsonDocument.Parse(stream);
        var kind = doc.RootElement.TryGetProperty("kind", out var k) || doc.RootElement.TryGetProperty("Kind", out k)
            ? k.GetString()
            : null;
        return kind switch
        {
            "char" => CharTokenizer.FromFile(doc.RootElement.Deserialize<CharTokenizerFile>(Options)!),
            _ => throw new InvalidDataException($"Unknown tokenizer kind '{kind}'."),
        };
    }

    public static ITokenizer Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Load(stream);
    }
}
