using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class HeldOutEvaluatorTests
{
    [Fact]
    public void Figures_are_consistent_with_each_other()
    {
        manual_seed(4);
        using var model = new Gpt(new GptConfig(10, 8, 1, 2, 16));
        using var split = new TokenBatches(Enumerable.Range(0, 300).Select(i => i % 10).ToArray(), 8, CPU);
        var f = HeldOutEvaluator.Evaluate(model, split, bytesPerToken: 2.0, batchSize: 5);
        Assert.Equal(37 * 8, f.TokensEvaluated);
        Assert.Equal(Math.Exp(f.Loss), f.Perplexity, 6);
        Assert.Equal(f.Loss / Math.Log(2) / 2.0, f.BitsPerByte, 9);
        Assert.InRange(f.Top1Accuracy, 0, f.Top5Accuracy);
        Assert.InRange(f.Top5Accuracy, 0, 1);
        // An untrained model is close to uniform over the 10 real ids.
        Assert.InRange(f.Loss, Math.Log(10) - 0.5, Math.Log(10) + 0.5);
    }
}
