namespace Platform.ML;

/// <summary>
/// Temperature 0 means greedy (argmax); TopK null or 0 keeps the whole vocabulary; TopP 1 keeps all of the
/// probability mass. Penalties (OpenAI's semantics) lower the logits of tokens already generated: by
/// FrequencyPenalty per occurrence and PresencePenalty once.
/// </summary>
public sealed record SamplingOptions(int MaxNewTokens, double Temperature = 1.0, int? TopK = null, long Seed = 0)
{
    public double TopP { get; init; } = 1.0;
    public double FrequencyPenalty { get; init; }
    public double PresencePenalty { get; init; }
    /// <summary>Byte-level BPE: never draw a token that would make the text invalid UTF-8 (given a <see
    /// cref="Utf8Constraint"/>).</summary>
    public bool ValidUtf8 { get; init; } = true;
    /// <summary>How many of the likeliest tokens are reported beside each token drawn, with their log-probabilities
    /// under the same distribution (0: none).</summary>
    public int TopLogprobs { get; init; }
    /// <summary>Structured output: the grammar this completion's text must follow (one per completion: it keeps the
    /// document's state). Only the continuous batch applies it.</summary>
    public Platform.Tokenizers.Structured.GrammarConstraint? Grammar { get; init; }
}

/// <summary>A decoded token and its log-probability under the distribution it was drawn from, with that
/// distribution's likeliest tokens when they were asked for (<see cref="SamplingOptions.TopLogprobs"/>).</summary>
public readonly record struct SampledToken(int Id, double LogProbability, IReadOnlyList<TokenAlternative>? Top = null);
