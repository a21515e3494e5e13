using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class PackedLinearTests
{
    [Fact]
    public void A_small_product_equals_its_hand_computation()
    {
        // y = x·Wᵀ + b, worked by hand: row 1 = (1·1 + 2·0 + 3·(−1) + 0.5, 1·2 + 2·1 + 3·0 − 1) = (−1.5, 3).
        using var weight = tensor(new float[] { 1, 0, -1, 2, 1, 0 }).view(2, 3);
        using var bias = tensor(new float[] { 0.5f, -1 });
        using var x = tensor(new float[] { 1, 2, 3, 0, 0, 0 }).view(2, 3);
        using var packed = new PackedLinear(weight, bias);
        var y = packed.Apply(x).data<float>().ToArray();
        Assert.Equal(new float[] { -1.5f, 3, 0.5f, -1 }, y);
    }

    public static TheoryData<int, int, bool> Shapes => new()
    {
        { 384, 128, true },  // whole panels of 48 columns
        { 50, 128, false },  // a partial last panel (48 + 2)
        { 7, 33, true },     // one partial panel, an odd inner size
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_product_matches_LibTorchs_linear_at_every_row_count(int outputs, int inputs, bool withBias)
    {
        manual_seed(5);
        using var scope = NewDisposeScope();
        var weight = randn(outputs, inputs) * 0.1;
        var bias = withBias ? randn(outputs) : null;
        using var packed = new PackedLinear(weight, bias);
        foreach (var rows in new[] { 1, 3, 8, 9, 16, 21 })
        {
            var x = randn(rows, 1, inputs);
            var expected = nn.functional.linear(x, weight, bias);
            var actual = packed.Apply(x);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5), $"{rows} rows");
        }
    }

    [Fact]
    public void A_rows_result_is_the_same_bit_for_bit_whatever_rows_come_with_it()
    {
        // The property continuous batching rests on: computed among 1 to 21 rows (whole tiles of 8 or not), row 0's
        // outputs are identical.
        manual_seed(6);
        using var scope = NewDisposeScope();
        var weight = randn(100, 384);
        using var packed = new PackedLinear(weight, randn(100));
        var x = randn(21, 384);
        var alone = packed.Apply(x[..1]);
        foreach (var rows in new[] { 2, 7, 8, 9, 16, 21 })
            Assert.True(packed.Apply(x[..rows])[..1].equal(alone).all().item<bool>(), $"{rows} rows");
    }

    /// <summary>Shared among threads by whole panels, a product is the same bit for bit as on one thread, at any row
    /// count and with a partial last panel, product after product.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Products_shared_among_threads_are_the_same_bits_as_on_one(int threads)
    {
        manual_seed(6);
        using var scope = NewDisposeScope();
        var weight = randn(1_450, 768) * 0.05; // 1.1 M weights: shared; 30 panels and a partial one
        var bias = randn(1_450);
        using var alone = new PackedLinear(weight, bias);
        using var workers = new ProductWorkers(threads);
        using var shared = new PackedLinear(weight, bias, workers);
        foreach (var rows in new[] { 1, 3, 8, 17 })
            for (var repeat = 0; repeat < 20; repeat++)
            {
                var x = randn(rows, 768);
                Assert.Equal(alone.Apply(x).data<float>().ToArray(), shared.Apply(x).data<float>().ToArray());
            }
        // After the workers have gone to sleep, the next product wakes them.
        Thread.Sleep(ProductWorkers.SpinTime * 5);
        var last = randn(2, 768);
        Assert.Equal(alone.Apply(last).data<float>().ToArray(), shared.Apply(last).data<float>().ToArray());
    }
}

public class PackedServingTests
{
    /// <summary>A run trained in bf16 keeps fp32 master weights, and its checkpoint records the shape, not the compute
    /// type: loaded for serving, it is an fp32 model that packs, with the weights it trained.</summary>
    [Fact]
    public void A_checkpoint_trained_in_bf16_loads_as_an_fp32_model_that_packs()
    {
        manual_seed(3);
        using var trained = new Gpt(new GptConfig(40, 16, 1, 2, 16) { ComputeType = ScalarType.BFloat16 });
        Assert.False(PackedGpt.Supports(trained));
        using var stream = new MemoryStream();
        Checkpoint.Save(trained, stream);
        stream.Position = 0;
        using var served = Checkpoint.Load(stream);
        Assert.Null(served.ComputeType);
        Assert.True(PackedGpt.Supports(served) || !PackedLinear.IsSupported);
        Assert.Equal(trained.TokenEmbedding.data<float>().ToArray(), served.TokenEmbedding.data<float>().ToArray());
    }
}
