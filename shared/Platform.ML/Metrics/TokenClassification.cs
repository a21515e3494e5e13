using static TorchSharp.torch;

namespace Platform.ML;

public sealed record TokenClassificationFigures(double Accuracy, double MacroPrecision, double MacroRecall,
    double MacroF1,
    double ExpectedCalibrationError, int Classes, long Tokens);

/// <summary>
/// Next-token prediction as classification over the vocabulary, accumulated batch by batch. Precision, recall and F1
/// are per class, then averaged with equal weight over the classes that occur as a target or as a prediction (a class
/// that never occurs is left out; one predicted but never a target has recall 0, one a target but never predicted has
/// precision 0: scikit-learn's macro average with zero_division=0). Expected calibration error: the predictions are
/// binned by their top probability into 15 equal bins, and ECE = Σ (bin size / N)·|accuracy − mean confidence|.
/// </summary>
public sealed class TokenClassification(int vocabSize)
{
    public const int CalibrationBins = 15;

    private readonly long[] _truePositives = new long[vocabSize];
    private readonly long[] _predicted = new long[vocabSize];
    private readonly long[] _actual = new long[vocabSize];
    private readonly long[] _binCount = new long[CalibrationBins];
    private readonly double[] _binConfidence = new double[CalibrationBins];
    private readonly long[] _binCorrect = new long[CalibrationBins];
    private long _tokens;

    /// <summary>Adds logits (N, ≥ vocabulary) and target ids (N); targets outside the vocabulary (padding to ignore)
    /// are skipped.</summary>
    public void Add(Tensor logits, Tensor targets, int? ignoreId = null)
    {
        using var scope = NewDisposeScope();
        var flat = logits.reshape(-1, logits.shape[^1])[.., ..vocabSize].to(ScalarType.Float32);
        var ids = targets.reshape(-1);
        if (ignoreId is { } ignore)
        {
            var keep = ids.ne(ignore);
            flat = flat[keep];
            ids = ids[keep];
        }
        var (confidence, predicted) = flat.softmax(-1).max(-1);
        var truth = ids.cpu().data<long>().ToArray();
        var guesses = predicted.cpu().data<long>().ToArray();
        var confidences = confidence.cpu().data<float>().ToArray();
        for (var i = 0; i < truth.Length; i++)
        {
            var (t, p) = ((int)truth[i], (int)guesses[i]);
            _actual[t]++;
            _predicted[p]++;
            var correct = t == p;
            if (correct)
                _truePositives[t]++;
            var bin = Math.Min(CalibrationBins - 1, (int)(confidences[i] * CalibrationBins));
            _binCount[bin]++;
            _binConfidence[bin] += confidences[i];
            _binCorrect[bin] += correct ? 1 : 0;
        }
        _tokens += truth.Length;
    }

    public TokenClassificationFigures Figures()
    {
        double precision = 0, recall = 0, f1 = 0;
        var classes = 0;
        for (var c = 0; c < vocabSize; c++)
        {
            if (_actual[c] == 0 && _predicted[c] == 0)
                continue;
            classes++;
            var p = _predicted[c] > 0 ? (double)_truePositives[c] / _predicted[c] : 0;
            var r = _actual[c] > 0 ? (double)_truePositives[c] / _actual[c] : 0;
            precision += p;
            recall += r;
            f1 += p + r > 0 ? 2 * p * r / (p + r) : 0;
        }
        double ece = 0;
        for (var b = 0; b < CalibrationBins; b++)
            if (_binCount[b] > 0)
                ece += (double)_binCount[b] / _tokens
                    * Math.Abs((double)_binCorrect[b] / _binCount[b] - _binConfidence[b] / _binCount[b]);
        var n = Math.Max(1, classes);
        return new TokenClassificationFigures(_tokens == 0 ? 0 : (double)_truePositives.Sum() / _tokens, precision / n,
            recall / n, f1 / n, ece,
            classes, _tokens);
    }
}
