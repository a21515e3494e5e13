using System.Text.Encodings.Web;
using System.Text.Json;

namespace Platform.Tokenizers;

/// <summary>
/// The stored form of a paired dataset's splits: one JSON object {"source": "...", "target": "..."} per line, written
/// by Ingestion and read by Tokenization and Evaluation.
/// </summary>
public static class PairLines
{
    private sealed record Line(string Source, string Target);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping
    };

    public static string Format(string source, string target) =>
        JsonSerializer.Serialize(new Line(source, target), Json);

    public static IEnumerable<(string Source, string Target)> Read(TextReader reader)
    {
        while (reader.ReadLine() is { } text)
        {
            if (text.Length == 0)
                continue;
            var line = JsonSerializer.Deserialize<Line>(text, Json);
            if (line?.Source is null || line.Target is null)
                throw new InvalidDataException("A stored pair has no source or target.");
            yield return (line.Source, line.Target);
        }
    }
}
