using System.Globalization;
using System.Text.Json;
using Platform.Contracts;

namespace Ingestion.Apis;

/// <summary>The form fields of an upload, parsed and checked against the documented limits.</summary>
public sealed record UploadFields(string Name, double ValidationFraction, TokenizerSpec Tokenizer, RunSpec? AutoTrain,
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
                tokenizer.Validate("tokenizer", errors);
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

        RunSpec? autoTrain = null;
        if (form.TryGetValue("autoTrain", out var rawSpec) && !string.IsNullOrWhiteSpace(rawSpec))
        {
            try
            {
                autoTrain = JsonSerializer.Deserialize<RunSpec>(rawSpec, Json);
                RunSpecValidator.Validate(autoTrain, "autoTrain.", errors);
                if (autoTrain?.Model is { } model && DatasetFormats.Supported.Contains(format)
                    && DatasetFormats.For(model.Architecture) != format)
                    errors.Add("autoTrain.model.architecture",
                        $"'{model.Architecture}' does not train on a '{format}' dataset.");
                // What a fine-tune starts from is checked against the registry when it is created: start one with POST
                // /api/runs.
                if (autoTrain?.InitFrom is not null || autoTrain?.FineTune is not null
                    || autoTrain?.TokenizerId is not null)
                    errors.Add(autoTrain.InitFrom is not null ? "autoTrain.initFrom" : autoTrain.FineTune is not null
                        ? "autoTrain.fineTune" : "autoTrain.tokenizerId",
                        "applies to runs created with POST /api/runs once the dataset is uploaded; autoTrain trains " +
                        "from scratch on the dataset's own tokenizer.");
            }
            catch (JsonException ex)
            {
                errors.Add("autoTrain", $"is not a valid run spec: {ex.Message}");
            }
        }

        return errors.IsValid ? (new UploadFields(name, fraction, tokenizer, autoTrain, format), errors)
            : (null, errors);
    }
}
