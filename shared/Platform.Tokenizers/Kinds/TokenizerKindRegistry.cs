using Platform.Contracts;

namespace Platform.Tokenizers.Kinds;

/// <summary>The kinds of tokenizer the platform trains, by name: the one list the API, the trainers and the dashboard
/// read.</summary>
public static class TokenizerKindRegistry
{
    public static readonly IReadOnlyList<TokenizerKind> All = [new CharKind(), new BpeKind(), new WordPieceKind()];

    public static TokenizerKind? Find(string name) =>
        All.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.Ordinal));

    /// <summary>A spec a user sent: a kind of this list, with its fields in that kind's bounds.</summary>
    public static ValidationErrors Validate(TokenizerSpec spec, string field, ValidationErrors errors)
    {
        if (Find(spec.Kind) is not { } kind)
            return errors.Add(field + ".kind",
                $"must be one of: {string.Join(", ", All.Select(k => k.Name))} (got '{spec.Kind}').");
        kind.Validate(spec, field, errors);
        return errors;
    }
}
