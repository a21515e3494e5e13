using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Contracts;

/// <summary>
/// "name" (its latest version), "name/versions/N", or "name@alias" (the version the alias points to now; "name@latest"
/// is the latest version).
/// </summary>
public sealed partial record ModelReference(string Name, int? Version, string? Alias = null)
{
    [GeneratedRegex(
        "^(?<name>[A-Za-z0-9][A-Za-z0-9._-]{0,63})((/versions/(?<version>[1-9][0-9]{0," +
        "8}))|(@(?<alias>[a-z][a-z0-9_-]{0,39})))?$")]
    private static partial Regex Pattern();

    public const string Forms = "\"name\", \"name/versions/N\" or \"name@alias\"";

    public static ModelReference? Parse(string? text)
    {
        var match = Pattern().Match(text?.Trim() ?? "");
        if (!match.Success)
            return null;
        var alias = match.Groups["alias"].Success ? match.Groups["alias"].Value : null;
        var version = match.Groups["version"];
        return new ModelReference(match.Groups["name"].Value,
            version.Success ? int.Parse(version.Value, CultureInfo.InvariantCulture) : null,
            alias == ModelAliases.Latest ? null : alias);
    }

    /// <summary>Why nothing answers to this reference: the words every service's 404 uses.</summary>
    public string NotFoundDetail => this switch
    {
        { Alias: { } alias } => $"Model '{Name}' has no alias '{alias}'.",
        { Version: { } version } => $"Model '{Name}' has no version {version}.",
        _ => $"No model is named '{Name}'.",
    };

    public override string ToString() => Version is { } v ? $"{Name}/versions/{v}" : Alias is { } a ? $"{Name}@{a}"
        : Name;
}

/// <summary>Alias names: lower-case, so "Production" and "production" are never two aliases.</summary>
public static partial class ModelAliases
{
    /// <summary>Always the highest version; it cannot be set.</summary>
    public const string Latest = "latest";

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,39}$")]
    private static partial Regex Pattern();

    public static bool IsValid(string? alias) => alias is not null && Pattern().IsMatch(alias) && alias != Latest;
}
