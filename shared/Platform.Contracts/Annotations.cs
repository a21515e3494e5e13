using System.Text.RegularExpressions;
namespace Platform.Contracts;

/// <summary>The rules for tags and notes on runs and model versions.</summary>
public static partial class Annotations
{
    public const int MaxTags = 20;
    public const int MaxText = 4000;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:=/-]{0,63}$")]
    private static partial Regex TagPattern();

    /// <summary>What a tag is made of, for the messages that refuse one.</summary>
    public const string TagCharacters =
        "1-64 letters, digits, '.', '_', ':', '=', '/' or '-', starting with a letter or digit.";

    public static bool IsTag(string? tag) => tag is not null && TagPattern().IsMatch(tag);

    public static ValidationErrors Validate(IReadOnlyList<string>? tags, string? text, string textField)
    {
        var errors = new ValidationErrors();
        if (tags is not null)
        {
            errors.Require(tags.Count <= MaxTags, "tags", $"must be at most {MaxTags} tags.");
            for (var i = 0; i < tags.Count; i++)
                errors.Require(IsTag(tags[i]), $"tags[{i}]", $"must be {TagCharacters}");
        }
        errors.Require(text is null || text.Length <= MaxText, textField, $"must be at most {MaxText} characters.");
        return errors;
    }
}
