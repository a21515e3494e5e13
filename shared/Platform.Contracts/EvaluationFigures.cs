using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Contracts;

/// <summary>
/// An evaluation's figures as one document of named metrics (name → number), with notes on how a metric was taken
/// (name → text, e.g. BLEU's tokenisation). Which metrics exist is decided where they are computed (the metric
/// registry), not here: a new metric needs no change to this type, to a message or to a table. In JSON the document
/// is flat: <c>{"loss": 1.2, "top1Accuracy": 0.45, "bleuTokenize": "13a"}</c>.
/// </summary>
[JsonConverter(typeof(EvaluationFiguresJson))]
public sealed class EvaluationFigures
{
    public EvaluationFigures(IReadOnlyDictionary<string, double> metrics,
        IReadOnlyDictionary<string, string>? notes = null)
    {
        // Only finite values are figures: JSON has no NaN, and a gate must not compare against one.
        Metrics = metrics.Where(m => double.IsFinite(m.Value)).ToDictionary(m => m.Key, m => m.Value,
            StringComparer.Ordinal);
        Notes = notes?.ToDictionary(n => n.Key, n => n.Value, StringComparer.Ordinal) ?? [];
    }

    public IReadOnlyDictionary<string, double> Metrics { get; }
    public IReadOnlyDictionary<string, string> Notes { get; }

    /// <summary>A metric's value by its name, compared without case or underscores ("top1_accuracy" finds
    /// "top1Accuracy"), or null when the evaluation has no such figure.</summary>
    public double? this[string name] =>
        Metrics.TryGetValue(name, out var exact) ? exact
        : Metrics.FirstOrDefault(m => SameName(m.Key, name)) is { Key: not null } found ? found.Value : null;

    public static bool SameName(string a, string b) =>
        string.Equals(a.Replace("_", "", StringComparison.Ordinal), b.Replace("_", "", StringComparison.Ordinal),
            StringComparison.OrdinalIgnoreCase);

    public override string ToString() => string.Join(", ",
        Metrics.Select(m => $"{m.Key} {m.Value.ToString("G4", CultureInfo.InvariantCulture)}")
            .Concat(Notes.Select(n => $"{n.Key} {n.Value}")));
}

/// <summary>
/// The flat JSON form. Reading also takes the form stored before figures were a document (PascalCase names, nulls
/// for figures not taken), so older rows and messages read as the same figures.
/// </summary>
public sealed class EvaluationFiguresJson : JsonConverter<EvaluationFigures>
{
    public override EvaluationFigures Read(ref Utf8JsonReader reader, Type typeToConvert,
        JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("Evaluation figures must be a JSON object.");
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var notes = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = JsonNamingPolicy.CamelCase.ConvertName(reader.GetString()!);
            reader.Read();
            switch (reader.TokenType)
            {
                case JsonTokenType.Number:
                    metrics[name] = reader.GetDouble();
                    break;
                case JsonTokenType.String:
                    notes[name] = reader.GetString()!;
                    break;
                case JsonTokenType.Null:
                    break;
                default:
                    throw new JsonException($"Evaluation figure '{name}' must be a number or a string.");
            }
        }
        return new EvaluationFigures(metrics, notes);
    }

    public override void Write(Utf8JsonWriter writer, EvaluationFigures value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, figure) in value.Metrics)
            writer.WriteNumber(name, figure);
        foreach (var (name, note) in value.Notes)
            writer.WriteString(name, note);
        writer.WriteEndObject();
    }

    /// <summary>The document as stored in a jsonb column.</summary>
    public static string Serialize(EvaluationFigures figures) => JsonSerializer.Serialize(figures);

    public static EvaluationFigures Deserialize(string json) => JsonSerializer.Deserialize<EvaluationFigures>(json)!;
}
