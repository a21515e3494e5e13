using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Contracts;

namespace Training.Sweeps;

/// <summary>A swept parameter: its path in a run spec ("training.learningRate"), and a list of values or a numeric
/// range.</summary>
public sealed record SweepParameter(string Path, Type ValueType, IReadOnlyList<JsonNode>? Values, SweepRange? Range)
{
    public bool IsInteger => ValueType == typeof(int);
}

/// <summary>Draws between Min and Max, uniformly or uniformly in log space.</summary>
public sealed record SweepRange(double Min, double Max, bool Log);

/// <summary>
/// The search space of a sweep: parameter paths into a run spec's "model" and "training" sections, each with a list of
/// values (grid and random) or, for a random search, a range {"min", "max", "scale": "linear"|"log"}. Expands to the
/// runs' assignments: a grid to every combination, a random search to distinct seeded draws.
/// </summary>
public static class SweepSpace
{
    public const int MaxRuns = 100, MaxValues = 50;

    private static readonly Dictionary<string, Type> Sections = new(StringComparer.OrdinalIgnoreCase)
    {
        ["model"] = typeof(ModelSpec),
        ["training"] = typeof(TrainingSpec),
    };

    /// <summary>The parameters of <paramref name="space"/>, with each error under "<paramref
    /// name="field"/>.path".</summary>
    public static IReadOnlyList<SweepParameter> Parse(JsonObject space, string field, bool random,
        ValidationErrors errors)
    {
        var parameters = new List<SweepParameter>();
        if (space.Count == 0)
            errors.Add(field, "must name at least one parameter, e.g. {\"training.learningRate\": [0.001, 0.003]}.");
        foreach (var (path, node) in space)
        {
            var key = $"{field}.{path}";
            if (Resolve(path) is not var (canonical, type))
            {
                errors.Add(key,
                    "is not a run parameter: use \"model.<field>\" or \"training.<field>\" with a field of the run's " +
                    "model or training section " +
                                "(e.g. \"training.learningRate\", \"model.nLayer\").");
                continue;
            }
            if (parameters.Any(p => p.Path == canonical))
            {
                errors.Add(key, $"names {canonical} a second time.");
                continue;
            }
            switch (node)
            {
                case JsonArray values when values.Count is > 0 and <= MaxValues
                    && values.All(v => v is JsonValue && IsOfType(v, type)):
                    if (values.Select(v => v!.ToJsonString()).Distinct().Count() != values.Count)
                        errors.Add(key, "lists a value twice.");
                    else
                        parameters.Add(new SweepParameter(canonical, type, [.. values.Select(v => v!.DeepClone())],
                            null));
                    break;
                case JsonArray:
                    errors.Add(key, $"must be a list of 1 to {MaxValues} {Describe(type)} values.");
                    break;
                case JsonObject range when random:
                    if (ParseRange(range, type, key, errors) is { } parsed)
                        parameters.Add(new SweepParameter(canonical, type, null, parsed));
                    break;
                default:
                    errors.Add(key, random
                        ? $"must be a list of values or a range {{\"min\": a, \"max\": b, \"scale\": " +
                        $"\"linear\"|\"log\"}}."
                        : "must be a list of values (ranges are for random searches).");
                    break;
            }
        }
        return parameters;
    }

    /// <summary>How many runs the grid makes (the product of the lists' lengths); long, as a careless grid can be
    /// huge.</summary>
    public static long GridSize(IReadOnlyList<SweepParameter> parameters) =>
        parameters.Aggregate(1L, (n, p) => p.Values is { } v ? Math.Min(n * v.Count, long.MaxValue / MaxValues)
        : long.MaxValue / MaxValues);

    /// <summary>Every combination, the last parameter varying fastest.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, JsonNode>> Grid(IReadOnlyList<SweepParameter> parameters)
    {
        IEnumerable<Dictionary<string, JsonNode>> combinations = [new(StringComparer.Ordinal)];
        foreach (var parameter in parameters)
            combinations = combinations.SelectMany(c =>
                parameter.Values!.Select(v => new Dictionary<string,
                JsonNode>(c, StringComparer.Ordinal)
                { [parameter.Path] = v.DeepClone() }));
        return [.. combinations];
    }

    /// <summary>
    /// <paramref name="count"/> distinct draws (a list's values equally likely; a range uniform, or uniform in log
    /// space), the same for the same seed. The caller checks that lists alone hold enough combinations.
    /// </summary>
    public static IReadOnlyList<IReadOnlyDictionary<string,
        JsonNode>> Draw(IReadOnlyList<SweepParameter> parameters, int count, int seed)
    {
        var random = new Random(seed);
        var drawn = new List<IReadOnlyDictionary<string, JsonNode>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 0; drawn.Count < count && attempt < count * 1000; attempt++)
        {
            var assignment = parameters.ToDictionary(p => p.Path, p => DrawOne(p, random), StringComparer.Ordinal);
            if (seen.Add(string.Join('\u0001', assignment.Select(a => a.Value.ToJsonString()))))
                drawn.Add(assignment);
        }
        return drawn;
    }

    /// <summary>A copy of the run request <paramref name="run"/> with each parameter of the assignment set.</summary>
    public static JsonObject Apply(JsonObject run, IReadOnlyDictionary<string, JsonNode> assignment)
    {
        var result = run.DeepClone().AsObject();
        foreach (var (path, value) in assignment)
        {
            var (section, name) = (path[..path.IndexOf('.')], path[(path.IndexOf('.') + 1)..]);
            var sectionKey = result.Select(p => p.Key).FirstOrDefault(k =>
                k.Equals(section, StringComparison.OrdinalIgnoreCase));
            if (sectionKey is null || result[sectionKey] is not JsonObject target)
            {
                if (sectionKey is not null)
                    result.Remove(sectionKey);
                result[section] = target = new JsonObject();
            }
            foreach (var existing in target.Select(p => p.Key).Where(k =>
                k.Equals(name, StringComparison.OrdinalIgnoreCase)).ToList())
                target.Remove(existing);
            target[name] = value.DeepClone();
        }
        return result;
    }

    /// <summary>"model.nlayer" → ("model.nLayer", int); null when it names no settable field.</summary>
    private static (string Path, Type Type)? Resolve(string path)
    {
        var parts = path.Split('.');
        if (parts.Length != 2 || !Sections.TryGetValue(parts[0], out var section))
            return null;
        var property = section.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .FirstOrDefault(p => p.Name.Equals(parts[1], StringComparison.OrdinalIgnoreCase) && p.CanWrite);
        if (property is null)
            return null;
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        var camel = JsonNamingPolicy.CamelCase;
        return ($"{camel.ConvertName(section.Name[..^4])}.{camel.ConvertName(property.Name)}", type);
    }

    private static bool IsOfType(JsonNode? value, Type type) => value!.GetValueKind() switch
    {
        JsonValueKind.Number when type == typeof(int) => value.AsValue().TryGetValue<int>(out _),
        JsonValueKind.Number => type == typeof(double),
        JsonValueKind.String => type == typeof(string),
        JsonValueKind.True or JsonValueKind.False => type == typeof(bool),
        _ => false,
    };

    private static string Describe(Type type) =>
        type == typeof(int) ? "integer" : type == typeof(double) ? "number" : type == typeof(bool) ? "true/false"
        : "string";

    private static SweepRange? ParseRange(JsonObject range, Type type, string key, ValidationErrors errors)
    {
        if (type != typeof(int) && type != typeof(double))
        {
            errors.Add(key, $"is a {Describe(type)} parameter: give a list of values, not a range.");
            return null;
        }
        double? Number(string name) => range[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number
            ? v.GetValue<double>() : null;
        var (min, max) = (Number("min"), Number("max"));
        var scale = range["scale"] is JsonValue s && s.GetValueKind() == JsonValueKind.String ? s.GetValue<string>()
            : range["scale"] is null ? "linear" : null;
        var unknown = range.Select(p => p.Key).Where(k => k is not ("min" or "max" or "scale")).ToList();
        var before = errors.Fields.Count;
        if (unknown.Count > 0)
            errors.Add(key, $"has unknown field(s) {string.Join(", ", unknown)}: a range has min, max and scale.");
        if (min is null || max is null || !(min < max))
            errors.Add(key, "needs numbers min < max.");
        if (scale is not ("linear" or "log"))
            errors.Add(key, "has scale \"linear\" (the default) or \"log\".");
        else if (scale == "log" && min is not > 0)
            errors.Add(key, "needs min > 0 on a log scale.");
        if (type == typeof(int) && min is { } lo && max is { } hi && Math.Floor(hi) < Math.Ceiling(lo))
            errors.Add(key, "holds no integer.");
        return errors.Fields.Count == before ? new SweepRange(min!.Value, max!.Value, scale == "log") : null;
    }

    private static JsonNode DrawOne(SweepParameter parameter, Random random)
    {
        if (parameter.Values is { } values)
            return values[random.Next(values.Count)].DeepClone();
        var (min, max, log) = parameter.Range!;
        if (parameter.IsInteger)
        {
            var (lo, hi) = ((int)Math.Ceiling(min), (int)Math.Floor(max));
            if (!log)
                return JsonValue.Create(random.Next(lo, hi + 1));
            // Uniform in log space over [lo - 0.5, hi + 0.5) and rounded, so each end is as likely as its neighbours'
            // rounding allows.
            var x = Math.Exp(Math.Log(Math.Max(lo - 0.5, 0.5)) + random.NextDouble()
                * (Math.Log(hi + 0.5) - Math.Log(Math.Max(lo - 0.5, 0.5))));
            return JsonValue.Create(Math.Clamp((int)Math.Round(x), lo, hi));
        }
        var value = log ? Math.Exp(Math.Log(min) + random.NextDouble() * (Math.Log(max) - Math.Log(min))) : min
            + random.NextDouble() * (max - min);
        // Four significant digits: a run's parameters read as a person would write them; still within [min, max].
        return JsonValue.Create(Math.Clamp(double.Parse(value.ToString("G4",
            System.Globalization.CultureInfo.InvariantCulture),
            System.Globalization.CultureInfo.InvariantCulture), min, max));
    }
}
