using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class SamplerTests
{
    private static Gpt Model()
    {
        manual_seed(11);
        return new Gpt(new GptConfig(VocabSize: 20, BlockSize: 8, NLayer: 1, NHead: 2, NEmbd: 16));
    }

    [Fact]
    public void Same_seed_same_tokens_and_different_seed_different_tokens()
    {
        using var model = Model();
        var a = Sampler.Generate(model, [1, 2, 3], new SamplingOptions(40, 1.0, null, Seed: 7));
        var b = Sampler.Generate(model, [1, 2, 3], new SamplingOptions(40, 1.0, null, Seed: 7));
        var c = Sampler.Generate(model, [1, 2, 3], new SamplingOptions(40, 1.0, null, Seed: 8));
        Assert.Equal(40, a.Length);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Ids_stay_inside_the_real_vocabulary_even_past_the_block_size()
    {
        using var model = Model();
        var ids = Sampler.Generate(model, [0], new SamplingOptions(30, 2.0, null, Seed: 1));
        Assert.All(ids, id => Assert.InRange(id, 0, 19));
    }

    [Fact]
    public void Temperature_zero_is_greedy()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 0.1f, 3f, 0.5f, 2.9f });
        Assert.Equal(1, Sampler.Pick(logits, new SamplingOptions(1, 0.0), new Generator(0)).Id);
    }

    [Fact]
    public void Top_k_never_draws_outside_the_k_most_likely()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 1f, 5f, 0f, 4.5f, 2f });
        var generator = new Generator(3);
        for (var i = 0; i < 200; i++)
            Assert.Contains(Sampler.Pick(logits, new SamplingOptions(1, 5.0, TopK: 2), generator).Id, new[] { 1, 3 });
    }

    [Fact]
    public void Top_p_keeps_the_smallest_set_holding_that_much_probability()
    {
        using var scope = NewDisposeScope();
        // Probabilities 0.5, 0.3, 0.15, 0.05: top-p 0.75 keeps the first two (0.5 alone is short of 0.75).
        var logits = tensor(new[] { 0.5f, 0.3f, 0.15f, 0.05f }).log();
        var generator = new Generator(5);
        var seen = new HashSet<int>();
        for (var i = 0; i < 300; i++)
            seen.Add(Sampler.Pick(logits, new SamplingOptions(1, 1.0) { TopP = 0.75 }, generator).Id);
        Assert.Equal(new[] { 0, 1 }, seen.Order());
    }

    [Fact]
    public void Penalties_lower_the_logits_of_generated_tokens()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new[] { 2.0f, 1.9f, 0f });
        var generated = new[] { 3, 0, 0 };
        Assert.Equal(0, Sampler.Pick(logits, new SamplingOptions(1, 0.0), new Generator(0), generated).Id);
        Assert.Equal(1,
            Sampler.Pick(logits, new SamplingOptions(1, 0.0) { FrequencyPenalty = 0.1 }, new Generator(0),
            generated).Id);
        Assert.Equal(1,
            Sampler.Pick(logits, new SamplingOptions(1, 0.0) { PresencePenalty = 0.5 }, new Generator(0),
            generated).Id);
    }

    [Fact]
    public void Log_probabilities_are_those_of_the_distribution_sampled_from()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new[] { 0.7f, 0.2f, 0.1f }).log();
        var greedy = Sampler.Pick(logits, new SamplingOptions(1, 0.0), new Generator(0));
        Assert.Equal(Math.Log(0.7), greedy.LogProbability, 5);
        var drawn = Sampler.Pick(logits, new SamplingOptions(1, 1.0), new Generator(2));
        Assert.Equal(Math.Log(new[] { 0.7, 0.2, 0.1 }[drawn.Id]), drawn.LogProbability, 5);
    }

    [Fact]
    public void Empty_prompt_is_rejected()
    {
        using var model = Model();
        Assert.Throws<ArgumentException>(() => Sampler.Generate(model, [], new SamplingOptions(5)));
    }

    [Fact]
    public void Picking_rows_together_draws_what_picking_each_row_alone_draws()
    {
        // Oracle: Pick, one row at a time, with generators seeded alike. Rows mix every setting, so each per-row tensor
        // of the batched version (temperature, top-k, top-p, penalties) meets rows that do not use it.
        manual_seed(3);
        var logits = randn(9, 70) * 3;
        var generated = Enumerable.Range(0, 9).Select(i =>
            Enumerable.Range(0, 70).Select(t => (t * 7 + i) % 5 == 0 ? t % 3 : 0).ToArray()).ToArray();
        SamplingOptions[] options =
        [
            new(10, 0.0),
            new(10, 1.0),
            new(10, 0.7, TopK: 5),
            new(10, 1.3) { TopP = 0.8 },
            new(10, 0.9, TopK: 20) { TopP = 0.5, FrequencyPenalty = 0.5 },
            new(10, 0.0) { PresencePenalty = 1.5 },
            new(10, 1.0, TopK: 70) { PresencePenalty = -0.5, FrequencyPenalty = 0.2 },
            new(10, 2.0, TopK: 1),
            new(10, 0.5) { TopP = 0.05 },
        ];
        for (var round = 0; round < 20; round++)
        {
            var batch = Sampler.PickRows(logits,
                options.Select((o, i) =>
                new RowSampling(o, new Generator((ulong)(round * 100 + i)), generated[i])).ToArray());
            for (var i = 0; i < options.Length; i++)
            {
                var alone = Sampler.Pick(logits[i], options[i], new Generator((ulong)(round * 100 + i)), generated[i]);
                Assert.Equal(alone.Id, batch[i].Id);
                Assert.Equal(alone.LogProbability, batch[i].LogProbability, 5);
            }
        }
    }

    /// <summary>
    /// The likeliest tokens beside each drawn one, against log-softmax computed by hand: greedy rows report the
    /// model's distribution; a sampled row with top-k 2 reports only what it could draw, at temperature 2.
    /// </summary>
    [Fact]
    public void The_likeliest_alternatives_are_the_top_of_the_distribution_each_row_draws_from()
    {
        float[] row = [1f, 3f, 0f, 2f];
        using var logits = tensor(row.Concat(row).Concat(row).ToArray()).view(3, 4);
        var rows = new[]
        {
            new RowSampling(new SamplingOptions(1, 0) { TopLogprobs = 3 }, new Generator(1), null),
            new RowSampling(new SamplingOptions(1, 0), new Generator(1), null),
            new RowSampling(new SamplingOptions(1, 2.0, TopK: 2) { TopLogprobs = 3 }, new Generator(1), null),
        };
        var picked = Sampler.PickRows(logits, rows);

        static double[] LogSoftmax(double[] x)
        {
            var z = Math.Log(x.Sum(v => Math.Exp(v)));
            return x.Select(v => v - z).ToArray();
        }
        var greedy = LogSoftmax([1, 3, 0, 2]);
        Assert.Equal([1, 3, 0], picked[0].Top!.Select(a => a.Id));
        Assert.All(picked[0].Top!, a => Assert.Equal(greedy[a.Id], a.LogProbability, 5));
        Assert.Null(picked[1].Top);
        // Top-k 2 at temperature 2 keeps 3/2 and 2/2: the other two cannot be drawn and are not listed.
        var sampled = LogSoftmax([3 / 2.0, 2 / 2.0]);
        Assert.Equal([1, 3], picked[2].Top!.Select(a => a.Id));
        Assert.Equal(sampled, picked[2].Top!.Select(a => a.LogProbability), new Tolerance(1e-5));
        Assert.Contains(picked[2].Top!, a => a.Id == picked[2].Id && Math.Abs(a.LogProbability
            - picked[2].LogProbability) < 1e-6);
    }

    private sealed class Tolerance(double within) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= within;
        public int GetHashCode(double obj) => 0;
    }
}
