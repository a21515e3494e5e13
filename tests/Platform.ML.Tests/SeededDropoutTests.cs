using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class SeededDropoutTests
{
    [Fact]
    public void Drops_a_fraction_p_and_scales_the_rest_to_keep_the_expectation()
    {
        manual_seed(4);
        using var scope = NewDisposeScope();
        var input = ones(200_000);
        var output = SeededDropout.Apply(input, 0.2, training: true);

        var dropped = output.eq(0).to(ScalarType.Float32).mean().item<float>();
        Assert.InRange(dropped, 0.195, 0.205);
        // Every survivor carries exactly 1/(1−p); p is rounded to a multiple of 2⁻¹⁶ and the scale follows it.
        var survivors = output.masked_select(output.ne(0));
        var scale = 65536.0 / (65536 - Math.Round(0.2 * 65536));
        Assert.True(survivors.eq(survivors[0]).all().item<bool>());
        Assert.Equal(scale, survivors[0].item<float>(), 5);
        Assert.InRange(output.mean().item<float>(), 0.99, 1.01);
    }

    [Fact]
    public void The_mask_follows_the_global_seed_and_changes_from_call_to_call()
    {
        using var scope = NewDisposeScope();
        var input = ones(4096);
        manual_seed(9);
        var first = SeededDropout.Apply(input, 0.5, training: true);
        var second = SeededDropout.Apply(input, 0.5, training: true);
        manual_seed(9);
        var again = SeededDropout.Apply(input, 0.5, training: true);

        Assert.True(first.equal(again).all().item<bool>());
        Assert.False(first.equal(second).all().item<bool>());
    }

    [Fact]
    public void Gradient_flows_only_through_kept_elements_with_the_same_scale()
    {
        manual_seed(5);
        using var scope = NewDisposeScope();
        var input = randn(64, 32).requires_grad_(true);
        var output = SeededDropout.Apply(input, 0.3, training: true);
        output.sum().backward();

        var kept = output.ne(0);
        var scale = 65536.0 / (65536 - Math.Round(0.3 * 65536));
        Assert.True(input.grad!.masked_select(kept).allclose(full(1, scale), rtol: 1e-6, atol: 0));
        Assert.True(input.grad!.masked_select(kept.logical_not()).eq(0).all().item<bool>());
    }

    [Fact]
    public void Evaluation_and_zero_probability_leave_the_input_alone()
    {
        using var scope = NewDisposeScope();
        var input = randn(10);
        Assert.Same(input, SeededDropout.Apply(input, 0.5, training: false));
        Assert.Same(input, SeededDropout.Apply(input, 0.0, training: true));
    }
}

public class DropoutAttentionTests
{
    [Fact]
    public void Matches_autograd_through_the_written_out_attention_with_the_same_mask()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var q = randn(2, 3, 12, 8).requires_grad_(true);
        var k = randn(2, 3, 12, 8).requires_grad_(true);
        var v = randn(2, 3, 12, 8).requires_grad_(true);
        var gradOutput = randn(2, 3, 12, 8);

        manual_seed(40);
        var seed = SeededDropout.NextSeed();
        var future = ones(12, 12, dtype: ScalarType.Bool).triu(1);
        var probabilities = q.matmul(k.transpose(-2, -1)).div(Math.Sqrt(8)).masked_fill(future,
            double.NegativeInfinity).softmax(-1);
        var expected = SeededDropout.Apply(probabilities, 0.25, seed).matmul(v);
        expected.backward([gradOutput]);
        var expectedGrads = new[] { q, k, v }.Select(t => t.grad!.clone()).ToList();
        foreach (var t in new[] { q, k, v })
            t.grad!.zero_();

        manual_seed(40);
        var actual = DropoutAttention.Apply(q, k, v, 0.25);
        actual.backward([gradOutput]);

        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6));
        for (var i = 0; i < 3; i++)
            Assert.True(new[] { q, k, v }[i].grad!.allclose(expectedGrads[i], rtol: 1e-4, atol: 1e-5),
                $"gradient of {"qkv"[i]} differs");
        // Dropout did act: some attention weights of a causal row were zeroed.
        Assert.True(SeededDropout.Apply(probabilities, 0.25,
            seed).eq(0).logical_and(future.logical_not()).any().item<bool>());
    }
}
