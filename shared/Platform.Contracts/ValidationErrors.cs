namespace Platform.Contracts;

/// <summary>Collects field errors for an RFC 7807 validation problem (400, errors keyed by field path).</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsValid => _errors.Count == 0;

    public ValidationErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
            _errors[field] = list = [];
        list.Add(message);
        return this;
    }

    public ValidationErrors Require(bool condition, string field, string message) => condition ? this
        : Add(field, message);

    public ValidationErrors Range(double value, double min, double max, string field, bool minExclusive = false) =>
        (minExclusive ? value > min : value >= min) && value <= max && !double.IsNaN(value)
            ? this
            : Add(field,
            $"must be {(minExclusive ? "greater than" : "at least")} {min} and at most {max} (got {value}).");

    public IReadOnlyCollection<string> Fields => _errors.Keys;

    public IDictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
}
