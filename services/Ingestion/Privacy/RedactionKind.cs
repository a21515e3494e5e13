namespace Ingestion.Privacy;

/// <summary>The kinds of personal data an upload can have replaced before anything is stored (upload option
/// "redact").</summary>
public enum RedactionKind { Email, Phone, Ip, CreditCard, CnId }

public static class RedactionKinds
{
    /// <summary>The names the upload option takes ("all" means every kind), in the order they are applied.</summary>
    public static readonly IReadOnlyDictionary<string, RedactionKind> ByName = new Dictionary<string,
        RedactionKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["email"] = RedactionKind.Email,
        ["cnId"] = RedactionKind.CnId,
        ["creditCard"] = RedactionKind.CreditCard,
        ["ip"] = RedactionKind.Ip,
        ["phone"] = RedactionKind.Phone,
    };

    public static string NameOf(RedactionKind kind) => ByName.First(p => p.Value == kind).Key;

    public static string Placeholder(RedactionKind kind) => kind switch
    {
        RedactionKind.Email => "[EMAIL]",
        RedactionKind.Phone => "[PHONE]",
        RedactionKind.Ip => "[IP]",
        RedactionKind.CreditCard => "[CREDIT_CARD]",
        RedactionKind.CnId => "[CN_ID]",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Parses "email,phone" or "all"; null (and the reason) when a name is unknown.</summary>
    public static IReadOnlySet<RedactionKind>? Parse(string? value, out string? error)
    {
        error = null;
        var kinds = new HashSet<RedactionKind>();
        foreach (var name in (value ?? "").Split(',',
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (name.Equals("all", StringComparison.OrdinalIgnoreCase))
                kinds.UnionWith(ByName.Values);
            else if (ByName.TryGetValue(name, out var kind))
                kinds.Add(kind);
            else
            {
                error = $"'{name}' is not a kind of personal data; use a comma list of " +
                    $"{string.Join(", ", ByName.Keys)}, or all.";
                return null;
            }
        }
        return kinds;
    }
}
