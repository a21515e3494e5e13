using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class MetricsTests
{
    // sacreBLEU's README (github.com/mjpost/sacrebleu, "Using SacreBLEU from Python"), sacreBLEU 2.0.0:
    //   BLEU().corpus_score(sys, refs) → "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17
    // ref_len = 18)",
    //   signature nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp; CHRF().corpus_score(sys, refs) → "chrF2 = 59.73".
    private static readonly string[] Sys = ["The dog bit the man.", "It wasn't surprising.",
        "The man had just bitten him."];
    private static readonly IReadOnlyList<string>[] Refs =
    [
        ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
        ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."],
    ];

    [Fact]
    public void Bleu_matches_sacrebleus_published_example()
    {
        var bleu = Bleu.Corpus(Sys, Refs);
        Assert.Equal("BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)",
            bleu.ToString());
    }

    [Fact]
    public void ChrF_matches_sacrebleus_published_example()
    {
        Assert.Equal(59.73, ChrF.Corpus(Sys, Refs), 2);
    }

    [Fact]
    public void Identical_output_scores_100_and_empty_output_0()
    {
        Assert.InRange(Bleu.Corpus(Sys, [Sys]).Score, 100 - 1e-9, 100);
        Assert.Equal(100, ChrF.Corpus(Sys, [Sys]), 6);
        Assert.Equal(0, Bleu.Corpus(["", "", ""], [Sys]).Score);
    }

    [Fact]
    public void The_zh_tokenisation_makes_each_chinese_character_a_word_and_keeps_latin_words_whole()
    {
        Assert.Equal(["我", "喜", "欢", "GPU", "模", "型", "。"],
            BleuTokenizers.Tokenize("我喜欢GPU模型。", BleuTokenizers.Chinese));
        Assert.Equal(["我喜欢GPU模型。"], BleuTokenizers.Tokenize("我喜欢GPU模型。", BleuTokenizers.Thirteen));
        Assert.Equal(BleuTokenizers.Chinese, BleuTokenizers.For(["我喜欢猫。", "today 天气很好"]));
        Assert.Equal(BleuTokenizers.Thirteen, BleuTokenizers.For(["The dog bit the man."]));
        // By hand: hypothesis 我 喜 欢 猫 against reference 我 喜 欢 狗: unigrams 3/4, bigrams 2/3, trigrams 1/2, 4-grams 0/1,
        // smoothed to 100/(2·1); equal lengths, so BLEU = (75 · 66.67 · 50 · 50)^(1/4).
        var bleu = Bleu.Corpus(["我喜欢猫"], [["我喜欢狗"]], BleuTokenizers.Chinese);
        Assert.Equal(Math.Pow(75 * (200.0 / 3) * 50 * 50, 0.25), bleu.Score, 6);
    }

    [Fact]
    public void Macro_precision_recall_and_f1_match_a_hand_computed_confusion()
    {
        // Five classes, the model sure of its argmax. Targets 0 0 1 1 2 2, predictions 0 1 1 1 3 2 (class 4 never
        // occurs).
        //   class 0: tp 1, predicted 1, actual 2 → P 1,   R 1/2, F1 2/3
        //   class 1: tp 2, predicted 3, actual 2 → P 2/3, R 1,   F1 4/5
        //   class 2: tp 1, predicted 1, actual 2 → P 1,   R 1/2, F1 2/3
        //   class 3: tp 0, predicted 1, actual 0 → P 0,   R 0,   F1 0   (predicted, never a target)
        // Macro over the 4 classes that occur: P 2.6667/4, R 2/4, F1 2.1333/4.
        var metrics = new TokenClassification(5);
        long[] targets = [0, 0, 1, 1, 2, 2];
        long[] predictions = [0, 1, 1, 1, 3, 2];
        var logits = full(6, 5, -20f);
        for (var i = 0; i < 6; i++)
            logits[i, predictions[i]] = 20f;
        metrics.Add(logits, tensor(targets));
        var f = metrics.Figures();
        Assert.Equal(4, f.Classes);
        Assert.Equal(4.0 / 6, f.Accuracy, 6);
        Assert.Equal((1 + 2.0 / 3 + 1 + 0) / 4, f.MacroPrecision, 6);
        Assert.Equal((0.5 + 1 + 0.5 + 0) / 4, f.MacroRecall, 6);
        Assert.Equal((2.0 / 3 + 0.8 + 2.0 / 3 + 0) / 4, f.MacroF1, 6);
        // Every prediction has confidence ≈ 1 and 4 of 6 are right: ECE = |4/6 − 1| = 1/3.
        Assert.Equal(1.0 / 3, f.ExpectedCalibrationError, 4);
    }

    [Fact]
    public void Calibration_error_is_zero_when_confidence_equals_accuracy_and_ignored_targets_do_not_count()
    {
        // Two classes at probabilities 0.75 / 0.25 for every token; three of four targets are class 0: accuracy 0.75 =
        // confidence.
        var metrics = new TokenClassification(2);
        var logits = tensor(new float[] { (float)Math.Log(3), 0 }).expand(5, 2).contiguous();
        metrics.Add(logits, tensor(new long[] { 0, 0, 1, 0, 9 }), ignoreId: 9);
        var f = metrics.Figures();
        Assert.Equal(4, f.Tokens);
        Assert.Equal(0, f.ExpectedCalibrationError, 6);
    }
}
