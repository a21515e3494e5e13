namespace Platform.ML;

// Token figures: next-token predictions (teacher-forced for an encoder-decoder). Precision, recall and F1 are
// macro-averaged over the token classes that occur as a target or a prediction; calibration error is the expected
// calibration error over 15 confidence bins (see TokenClassification).

public sealed class LossMetric : EvaluationMetric
{
    public override string Name => "loss";
    public override double? Of(ScoredPass pass) => pass.Tokens.Loss;
}

public sealed class PerplexityMetric : EvaluationMetric
{
    public override string Name => "perplexity";
    public override double? Of(ScoredPass pass) => pass.Tokens.Perplexity;
}

/// <summary>The loss in bits per UTF-8 byte of text, so models with different tokenizers compare.</summary>
public sealed class BitsPerByteMetric : EvaluationMetric
{
    public override string Name => "bitsPerByte";
    public override double? Of(ScoredPass pass) => pass.Tokens.BitsPerByte;
}

public sealed class Top1AccuracyMetric : EvaluationMetric
{
    public override string Name => "top1Accuracy";
    public override double? Of(ScoredPass pass) => pass.Tokens.Top1Accuracy;
}

public sealed class Top5AccuracyMetric : EvaluationMetric
{
    public override string Name => "top5Accuracy";
    public override double? Of(ScoredPass pass) => pass.Tokens.Top5Accuracy;
}

public sealed class TokensEvaluatedMetric : EvaluationMetric
{
    public override string Name => "tokensEvaluated";
    public override double? Of(ScoredPass pass) => pass.Tokens.TokensEvaluated;
}

public sealed class MacroPrecisionMetric : EvaluationMetric
{
    public override string Name => "macroPrecision";
    public override double? Of(ScoredPass pass) => pass.Tokens.Classes?.MacroPrecision;
}

public sealed class MacroRecallMetric : EvaluationMetric
{
    public override string Name => "macroRecall";
    public override double? Of(ScoredPass pass) => pass.Tokens.Classes?.MacroRecall;
}

public sealed class MacroF1Metric : EvaluationMetric
{
    public override string Name => "macroF1";
    public override double? Of(ScoredPass pass) => pass.Tokens.Classes?.MacroF1;
}

public sealed class ExpectedCalibrationErrorMetric : EvaluationMetric
{
    public override string Name => "expectedCalibrationError";
    public override double? Of(ScoredPass pass) => pass.Tokens.Classes?.ExpectedCalibrationError;
}

// Sequence figures (encoder-decoder only): whole decoded outputs against their references.

/// <summary>sacreBLEU-compatible corpus BLEU (0-100), noting the tokenisation it used ("13a", or "zh" for Chinese
/// references).</summary>
public sealed class BleuMetric : EvaluationMetric
{
    public override string Name => "bleu";

    public override double? Of(ScoredPass pass) => pass.Decoded is { } d
        ? Bleu.Corpus(d.Hypotheses, [d.References], d.BleuTokenize).Score
        : null;

    public override IEnumerable<KeyValuePair<string, string>> NotesOf(ScoredPass pass) => pass.Decoded is { } d
        ? [KeyValuePair.Create("bleuTokenize", d.BleuTokenize)]
        : [];
}

/// <summary>chrF (character n-grams up to 6, β = 2), 0-100.</summary>
public sealed class ChrFMetric : EvaluationMetric
{
    public override string Name => "chrF";
    public override double? Of(ScoredPass pass) => pass.Decoded is { } d ? ChrF.Corpus(d.Hypotheses, [d.References])
        : null;
}

/// <summary>The share of outputs decoded exactly as their reference.</summary>
public sealed class ExactMatchMetric : EvaluationMetric
{
    public override string Name => "exactMatch";

    public override double? Of(ScoredPass pass) => pass.Decoded is { } d
        ? d.Hypotheses.Count == 0 ? 0 : (double)d.Hypotheses.Zip(d.References).Count(p => p.First == p.Second)
            / d.Hypotheses.Count
        : null;
}

/// <summary>The held-out loss computed by int8 decoding's kernel (<see cref="PackedInt8Linear"/>) on the same split:
/// its difference from loss is what serving the version in int8 costs.</summary>
public sealed class Int8LossMetric : EvaluationMetric
{
    public override string Name => "int8Loss";
    public override double? Of(ScoredPass pass) => pass.Int8Loss;
}

public sealed class PairsEvaluatedMetric : EvaluationMetric
{
    public override string Name => "pairsEvaluated";
    public override double? Of(ScoredPass pass) => pass.Decoded?.Hypotheses.Count;
}
