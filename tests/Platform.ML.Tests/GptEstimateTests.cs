using Platform.ML;

namespace Platform.ML.Tests;

/// <summary>The estimate's arithmetic against the model itself (its parameters) and against hand computation (tokens,
/// FLOPs, optimiser bytes).</summary>
public class GptEstimateTests
{
    [Theory]
    [InlineData(65, 64, 4, 4, 128, true)]
    [InlineData(1000, 32, 3, 2, 48, true)]
    [InlineData(300, 16, 2, 4, 32, false)]
    public void The_parameter_count_is_the_models_own(int vocab, int block, int layers, int heads, int width, bool bias)
    {
        var config = new GptConfig(vocab, block, layers, heads, width, Bias: bias);
        using var model = new Gpt(config);
        var actual = model.parameters().Sum(p => p.numel());
        Assert.Equal(actual,
            GptEstimate.For(config, 1, 1, 1, bf16: false, recompute: false, baselineBytes: 0).Parameters);
    }

    [Fact]
    public void Tokens_flops_and_optimiser_memory_follow_from_the_shape()
    {
        var config = new GptConfig(65, 64, 4, 4, 128);
        var e = GptEstimate.For(config, batchSize: 12, gradientAccumulationSteps: 2, maxSteps: 100, bf16: false,
            recompute: false, baselineBytes: 1000);
        Assert.Equal(12L * 64 * 2, e.TokensPerStep);
        Assert.Equal(12L * 64 * 2 * 100, e.Tokens);
        Assert.Equal(6.0 * e.Parameters * e.Tokens, e.TrainingFlops);
        // fp32 weights, gradients and AdamW's two moments.
        Assert.Equal(16L * e.Parameters, e.WeightsAndOptimizerBytes);
        Assert.Equal(e.WeightsAndOptimizerBytes + e.ActivationBytes + 1000, e.PeakMemoryBytes);

        var bf16 = GptEstimate.For(config, 12, 2, 100, bf16: true, recompute: false, baselineBytes: 1000);
        var recomputed = GptEstimate.For(config, 12, 2, 100, bf16: true, recompute: true, baselineBytes: 1000);
        Assert.True(recomputed.ActivationBytes < bf16.ActivationBytes && bf16.ActivationBytes < e.ActivationBytes);
        // Accumulation keeps one micro-batch's activations, not two.
        Assert.Equal(e.ActivationBytes, GptEstimate.For(config, 12, 1, 100, false, false, 1000).ActivationBytes);
    }
}
