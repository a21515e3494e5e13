using Platform.Contracts;

namespace Platform.ML;

/// <summary>The metrics every evaluation takes, in the order its document lists them.</summary>
public static class EvaluationMetrics
{
    public static readonly IReadOnlyList<EvaluationMetric> All =
    [
        new LossMetric(), new PerplexityMetric(), new BitsPerByteMetric(), new Top1AccuracyMetric(),
        new Top5AccuracyMetric(), new TokensEvaluatedMetric(), new MacroPrecisionMetric(), new MacroRecallMetric(),
        new MacroF1Metric(), new ExpectedCalibrationErrorMetric(), new BleuMetric(), new ChrFMetric(),
        new ExactMatchMetric(), new PairsEvaluatedMetric(), new Int8LossMetric(),
    ];

    public static IEnumerable<string> Names => All.Select(m => m.Name);

    /// <summary>The registered metric a name means (without case or underscores: "top1_accuracy" is
    /// top1Accuracy).</summary>
    public static EvaluationMetric? Find(string name) =>
        All.FirstOrDefault(m => EvaluationFigures.SameName(m.Name, name));

    public static EvaluationFigures Score(ScoredPass pass)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var notes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var metric in All)
        {
            if (metric.Of(pass) is { } value)
                metrics[metric.Name] = value;
            foreach (var (name, note) in metric.NotesOf(pass))
                notes[name] = note;
        }
        return new EvaluationFigures(metrics, notes);
    }
}
