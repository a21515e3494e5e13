using System.Text.Json;
using System.Text.Json.Nodes;
using Training.Data;

namespace Training.Runs;

/// <summary>
/// A run's parameters as name → text, the way searches and MLflow see them: an external run's as its script logged
/// them, a platform run's spec flattened to dotted names ("model.nLayer", "training.learningRate").
/// </summary>
public static class RunParameters
{
    public static IReadOnlyDictionary<string, string> Of(Run run)
    {
        if (run.External)
            return run.Params;
        var spec = JsonSerializer.SerializeToNode(new
        {
            run.Spec.Model,
            run.Spec.Training,
            run.Spec.InitFrom,
            run.Spec.FineTune,
        }, JsonSerializerOptions.Web)!;
        return Flatten(spec, "").Where(p => p.Value is not null)
            .ToDictionary(p => p.Key, p => p.Value is JsonValue v && v.TryGetValue<string>(out var s)
                ? s
                : p.Value!.ToJsonString(), StringComparer.Ordinal);
    }

    /// <summary>Every leaf of a JSON object under its dotted path.</summary>
    public static Dictionary<string, JsonNode?> Flatten(JsonNode node, string prefix)
    {
        var result = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (node is JsonObject obj)
            foreach (var (key, value) in obj)
            {
                var path = prefix.Length == 0 ? key : $"{prefix}.{key}";
                if (value is JsonObject)
                    foreach (var (k, v) in Flatten(value, path))
                        result[k] = v;
                else
                    result[path] = value;
            }
        return result;
    }
}
