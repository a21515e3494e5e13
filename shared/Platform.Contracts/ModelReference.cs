using System.Text.RegularExpressions;

namespace Platform.Contracts;

/// <summary>"name" (latest version) or "name/versions/N".</summary>
public sealed partial record ModelReference(string Name, int? Version)
{
    [GeneratedRegex("^(?<name>[A-Za-z0-9][A-Za-z0-9._-]{0,63})(/versions/(?<version>[1-9][0-9]{0,8}))?$")]
    private static partial Regex Pattern();

    public static ModelReference? Parse(string? text)
    {
        var match = Pattern().Match(text?.Trim() ?? "");
        if (!match.Success)
            return null;
        return new ModelReference(match.Groups["name"].Value,
            match.Groups["version"].Success ? int.Parse(match.Groups["version"].Value) : null);
    }
}
