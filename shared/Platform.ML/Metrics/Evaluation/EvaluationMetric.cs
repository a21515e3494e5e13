namespace Platform.ML;

/// <summary>
/// One figure of an evaluation, read off a scoring pass. A new metric is a subclass plus its line in
/// <see cref="EvaluationMetrics.All"/>: its name is then stored, announced, shown and gated on with no other change.
/// </summary>
public abstract class EvaluationMetric
{
    /// <summary>The figure's name in the evaluation's document (camelCase); gates may also write it in
    /// snake_case.</summary>
    public abstract string Name { get; }

    /// <summary>Null when the pass does not give this figure (a sequence metric of a GPT, say).</summary>
    public abstract double? Of(ScoredPass pass);

    /// <summary>How the figure was taken, when that is worth keeping beside it (name → text).</summary>
    public virtual IEnumerable<KeyValuePair<string, string>> NotesOf(ScoredPass pass) => [];
}

/// <summary>
/// What one scoring pass produced. Tokens: the teacher-forced next-token figures every model has. Decoded: an
/// encoder-decoder's whole outputs beside their references, for sequence metrics. Int8Loss: a GPT's held-out loss
/// with its matrices quantized to int8, as int8 decoding computes.
/// </summary>
public sealed record ScoredPass(HeldOutFigures Tokens, DecodedPairs? Decoded = null, double? Int8Loss = null);

public sealed record DecodedPairs(IReadOnlyList<string> Hypotheses, IReadOnlyList<string> References)
{
    /// <summary>sacreBLEU's tokenisation for these references ("13a", or "zh" when they are mostly Chinese).</summary>
    public string BleuTokenize { get; } = BleuTokenizers.For(References);
}
