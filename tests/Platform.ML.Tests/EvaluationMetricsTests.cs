using System.Text.Json;
using Platform.Contracts;

namespace Platform.ML.Tests;

/// <summary>The evaluation's figures as one document of named metrics, taken by the registered metrics.</summary>
public class EvaluationMetricsTests
{
    private static readonly HeldOutFigures Tokens = new(1.5, Math.Exp(1.5), 2.0, 0.4, 0.7, 1000,
        new TokenClassificationFigures(0.4, 0.3, 0.2, 0.25, 0.05, 60, 1000));

    [Fact]
    public void A_text_pass_gives_the_token_figures_and_no_sequence_figures()
    {
        var figures = EvaluationMetrics.Score(new ScoredPass(Tokens));
        Assert.Equal(["loss", "perplexity", "bitsPerByte", "top1Accuracy", "top5Accuracy", "tokensEvaluated",
            "macroPrecision", "macroRecall", "macroF1", "expectedCalibrationError"], figures.Metrics.Keys);
        Assert.Equal(0.2, figures["macroRecall"]);
        Assert.Null(figures["bleu"]);
        Assert.Empty(figures.Notes);
    }

    [Fact]
    public void A_decoded_pass_adds_sequence_figures_computed_by_hand()
    {
        // Two of three outputs are exactly their reference; sacreBLEU's example (MetricsTests) gives BLEU and chrF.
        string[] hypotheses = ["a b c", "the cat sat", "x"], references = ["a b c", "the cat sat", "y"];
        var figures = EvaluationMetrics.Score(new ScoredPass(Tokens, new DecodedPairs(hypotheses, references)));
        Assert.Equal(2.0 / 3, figures["exactMatch"]!.Value, 12);
        Assert.Equal(3, figures["pairsEvaluated"]);
        Assert.Equal(Bleu.Corpus(hypotheses, [references]).Score, figures["bleu"]);
        Assert.Equal(ChrF.Corpus(hypotheses, [references]), figures["chrF"]);
        Assert.Equal("13a", figures.Notes["bleuTokenize"]);
    }

    [Fact]
    public void The_document_is_flat_json_and_reads_back_the_same()
    {
        var figures = new EvaluationFigures(new Dictionary<string, double>
        {
            ["loss"] = 1.25,
            ["pairsEvaluated"] = 400
        },
            new Dictionary<string, string> { ["bleuTokenize"] = "zh" });
        var json = JsonSerializer.Serialize(figures);
        Assert.Equal("""{"loss":1.25,"pairsEvaluated":400,"bleuTokenize":"zh"}""", json);
        var read = JsonSerializer.Deserialize<EvaluationFigures>(json)!;
        Assert.Equal(figures.Metrics, read.Metrics);
        Assert.Equal(figures.Notes, read.Notes);
    }

    [Fact]
    public void Figures_stored_before_the_document_read_under_the_documents_names()
    {
        // The registry's rows held an owned JSON type: PascalCase names, and nulls for figures not taken.
        const string Stored = """
            {"Bleu": null, "BleuTokenize": null, "ChrF": null, "ExactMatch": null, "ExpectedCalibrationError": 0.03,
             "Loss": 1.88, "MacroF1": 0.31, "MacroPrecision": 0.3, "MacroRecall": 0.32, "PairsEvaluated": null,
             "Perplexity": 6.55, "BitsPerByte": 2.7, "Top1Accuracy": 0.45, "Top5Accuracy": 0.8, "TokensEvaluated": 900}
            """;
        var figures = JsonSerializer.Deserialize<EvaluationFigures>(Stored)!;
        Assert.Equal(10, figures.Metrics.Count);
        Assert.Equal(0.45, figures["top1Accuracy"]);
        Assert.Equal(900, figures["tokensEvaluated"]);
        Assert.Null(figures["bleu"]);
        Assert.Empty(figures.Notes);
    }

    [Fact]
    public void Gates_name_a_metric_in_either_spelling_and_only_finite_values_are_figures()
    {
        Assert.Equal("top1Accuracy", EvaluationMetrics.Find("top1_accuracy")!.Name);
        Assert.Equal("chrF", EvaluationMetrics.Find("chrf")!.Name);
        Assert.Equal("expectedCalibrationError", EvaluationMetrics.Find("expected_calibration_error")!.Name);
        Assert.Null(EvaluationMetrics.Find("no_such_metric"));
        Assert.Equal(EvaluationMetrics.All.Count, EvaluationMetrics.Names.Distinct().Count());
        var diverged = new EvaluationFigures(new Dictionary<string, double> { ["loss"] = double.NaN, ["bleu"] = 1 });
        Assert.Null(diverged["loss"]);
        Assert.Equal(1, diverged["BLEU"]);
    }
}
