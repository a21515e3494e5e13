using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ML;

namespace Generation.Serving;

/// <summary>
/// The options both generation APIs share, validated once against the documented limits. Field names in errors
/// are the API's own: camelCase for /api/generate, snake_case for the OpenAI-compatible /v1/completions.
/// </summary>
public sealed record SamplingRequest(
    string? Model, string? Prompt, int? MaxTokens, double? Temperature, int? TopK, double? TopP, long? Seed,
    double? FrequencyPenalty, double? PresencePenalty, IReadOnlyList<string>? Stop, int? N)
{
    public const int DefaultMaxTokens = 200, MaxStops = 4, MaxStopLength = 64, MaxBeams = 16,
        DefaultEncoderDecoderBeams = 4;

    /// <summary>Beam search (encoder-decoder models): hypotheses kept per step; null: 4 unless a temperature is
    /// given.</summary>
    public int? NumBeams { get; init; }
    public double? LengthPenalty { get; init; }
    public bool? EarlyStopping { get; init; }
    public int? NoRepeatNgramSize { get; init; }
    /// <summary>The likeliest tokens reported beside each generated one (OpenAI's completions' logprobs).</summary>
    public int TopLogprobs { get; init; }
    /// <summary>A token that ends each completion with "stop" (a chat reply's end marker).</summary>
    public int? EndToken { get; init; }
    /// <summary>Structured output: the grammar each completion follows, ending with <see cref="EndToken"/> once its
    /// document is complete.</summary>
    public Platform.Tokenizers.Structured.GrammarNode? Grammar { get; init; }
    /// <summary>Byte-level BPE models: mask tokens that would produce invalid UTF-8 (default true).</summary>
    public bool? ValidUtf8 { get; init; }

    /// <summary>What every prompt must be (the request's, and each further one of an array of prompts).</summary>
    public static void CheckPrompt(ValidationErrors errors, string? prompt, GenerationOptions o)
    {
        errors.Require(!string.IsNullOrEmpty(prompt), "prompt", "is required and must not be empty.");
        errors.Require((prompt?.Length ?? 0) <= o.MaxPromptCharacters, "prompt",
            $"must be at most {o.MaxPromptCharacters:N0} characters.");
    }

    public ValidationErrors Validate(GenerationOptions o, bool snakeCase)
    {
        string F(string name) => snakeCase
            ? string.Concat(name.Select(c => char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : c.ToString())) : name;
        var errors = new ValidationErrors();
        errors.Require(ModelReference.Parse(Model) is not null, F("model"), $"must be {ModelReference.Forms}.");
        CheckPrompt(errors, Prompt, o);
        errors.Range(MaxTokens ?? DefaultMaxTokens, 1, o.MaxNewTokens, F("maxTokens"));
        errors.Range(Temperature ?? 1.0, 0, o.MaxTemperature, F("temperature"));
        errors.Range(TopK ?? 0, 0, 1_000_000, F("topK"));
        errors.Range(TopP ?? 1.0, 0, 1, F("topP"), minExclusive: true);
        errors.Require(Seed is null or >= 0, F("seed"), "must be a non-negative integer.");
        errors.Range(FrequencyPenalty ?? 0, -2, 2, F("frequencyPenalty"));
        errors.Range(PresencePenalty ?? 0, -2, 2, F("presencePenalty"));
        errors.Range(N ?? 1, 1, o.MaxCompletionsPerRequest, F("n"));
        errors.Range(NumBeams ?? 1, 1, MaxBeams, F("numBeams"));
        errors.Range(LengthPenalty ?? 1.0, -5, 5, F("lengthPenalty"));
        errors.Range(NoRepeatNgramSize ?? 0, 0, 16, F("noRepeatNgramSize"));
        errors.Require(Stop is null || (Stop.Count <= MaxStops && Stop.All(s => s.Length is > 0 and <= MaxStopLength)),
            F("stop"),
            $"must be at most {MaxStops} non-empty strings of at most {MaxStopLength} characters.");
        return errors;
    }

    /// <summary>
    /// Beam search for an encoder-decoder: numBeams as asked, else 4 when no temperature is given (the evaluated
    /// default), else none (sampling). GPTs never beam (a request asking them to is refused by <see
    /// cref="CheckArchitecture"/>).
    /// </summary>
    public BeamSearchOptions? Beam(string architecture)
    {
        if (architecture != Architectures.EncoderDecoder)
            return null;
        var beams = NumBeams ?? (Temperature is null ? DefaultEncoderDecoderBeams : 1);
        return beams <= 1 && NoRepeatNgramSize is null or 0 ? null
            : new BeamSearchOptions(beams, MaxTokens ?? DefaultMaxTokens, LengthPenalty ?? 1.0, EarlyStopping ?? false,
            NoRepeatNgramSize ?? 0);
    }

    /// <summary>Beam settings name the field when the model is a GPT.</summary>
    public ValidationErrors CheckArchitecture(string architecture, bool snakeCase)
    {
        var errors = new ValidationErrors();
        if (architecture != Architectures.EncoderDecoder && (NumBeams is > 1 || NoRepeatNgramSize is > 0))
            errors.Add(snakeCase ? "num_beams" : "numBeams",
                "beam search is for encoder-decoder models; this model is a GPT.");
        return errors;
    }

    /// <summary>Sampling options for completion <paramref name="index"/>: each of n completions gets its own
    /// seed.</summary>
    public SamplingOptions ToOptions(long seed, int index) =>
        new(MaxTokens ?? DefaultMaxTokens, Temperature ?? 1.0, TopK, seed + index)
        {
            TopP = TopP ?? 1.0,
            FrequencyPenalty = FrequencyPenalty ?? 0,
            PresencePenalty = PresencePenalty ?? 0,
            ValidUtf8 = ValidUtf8 ?? true,
            TopLogprobs = TopLogprobs,
        };
}
