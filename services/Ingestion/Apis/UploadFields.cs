using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.Tokenizers.Kinds;

namespace Ingestion.Apis;

/// <summary>The form fields of an upload, parsed and checked against the documented limits.</summary>
/// <remarks>autoTrain is only checked to be a JSON object: the run it asks for is Training's to check and
/// create.</remarks>
public sealed record UploadFields(string Name, double ValidationFraction, TokenizerSpec Tokenizer, string? AutoTrain,
    string Format)
{
    public const int MaxNameLength = 128;
    public const double DefaultValidationFraction = 0.1, MaxValidationFraction = 0.5;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static (UploadFields? Fields, ValidationErrors Errors) Parse(IReadOnlyDictionary<string, string> form)
    {
        var errors = new ValidationErrors();
        var name = form.GetValueOrDefault("name")?.Trim() ?? "";
        errors.Require(name.Length is > 0 and <= MaxNameLength, "name",
            $"is required and must be at most {MaxNameLength} characters.");

        var fraction = DefaultValidationFraction;
        if (form.TryGetValue("validationFraction", out var rawFraction) && !string.IsNullOrWhiteSpace(rawFraction))
        {
            if (!double.TryParse(rawFraction, NumberStyles.Float, CultureInfo.InvariantCulture, out fraction))
                errors.Add("validationFraction", $"must be a number (got '{rawFraction}').");
            else
                errors.Range(fraction, 0, MaxValidationFraction, "validationFraction", minExclusive: true);
        }

        // "tokenizer" is a kind ("char", "bpe") or a JSON spec ({"kind":"bpe","vocabSize":4096,...}).
        var tokenizer = new TokenizerSpec();
        if (form.TryGetValue("tokenizer", out var rawTokenizer) && !string.IsNullOrWhiteSpace(rawTokenizer))
        {
            try
            {
                tokenizer = rawTokenizer.TrimStart().StartsWith('{')
                    ? JsonSerializer.Deserialize<TokenizerSpec>(rawTokenizer, Json) ?? tokenizer
                    : new TokenizerSpec { Kind = rawTokenizer.Trim().ToLowerInvariant() };
                TokenizerKindRegistry.Validate(tokenizer, "tokenizer", errors);
            }
            catch (JsonException ex)
            {
                errors.Add("tokenizer", $"is not a valid tokenizer spec: {ex.Message}");
            }
        }

        var format = form.GetValueOrDefault("format")?.Trim().ToLowerInvariant() is { Length: > 0 } f ? f
            : DatasetFormats.Text;
        errors.Require(DatasetFormats.Supported.Contains(format), "format",
            $"must be one of: {string.Join(", ", DatasetFormats.Supported)} (got '{format}').");

        string? autoTrain = null;
        if (form.TryGetValue("autoTrain", out var rawSpec) && !string.IsNullOrWhiteSpace(rawSpec))
        {
            try
            {
                if (JsonNode.Parse(rawSpec) is JsonObject)
                    autoTrain = rawSpec;
                else
                    errors.Add("autoTrain", "must be a JSON object: a run as POST /api/runs takes it.");
            }
            catch (JsonException ex)
            {
                errors.Add("autoTrain", $"is not valid JSON: {ex.Message.Split(" Path:", 2)[0]}");
            }
        }

        return errors.IsValid ? (new UploadFields(name, fraction, tokenizer, autoTrain, format), errors)
            : (null, errors);
    }
}
