using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class KvCacheTests
{
    private static Gpt Model(int blockSize)
    {
        manual_seed(31);
        return new Gpt(new GptConfig(VocabSize: 50, BlockSize: blockSize, NLayer: 2, NHead: 2, NEmbd: 32));
    }

    [Theory]
    [InlineData(0.0, 256)]   // greedy, never reaching the block size
    [InlineData(1.0, 256)]   // seeded sampling
    [InlineData(0.0, 64)]    // greedy across several window restarts
    [InlineData(0.9, 64)]    // seeded sampling across window restarts
    public void Cached_decoding_gives_exactly_the_tokens_of_full_recomputation(double temperature, int blockSize)
    {
        using var model = Model(blockSize);
        int[] prompt = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7];
        var options = new SamplingOptions(200, temperature, TopK: 20, Seed: 11);
        var cached = Sampler.Generate(model, prompt, options, useKvCache: true);
        var recomputed = Sampler.Generate(model, prompt, options, useKvCache: false);
        Assert.Equal(200, cached.Length);
        Assert.Equal(recomputed, cached);
    }

    [Fact]
    public void The_last_position_logits_match_the_full_forward_pass()
    {
        using var model = Model(32);
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 1, 2, 3, 4, 5, 6 }).unsqueeze(0);
        using var cache = new KvCache(2);
        var prefilled = model.ForwardLast(ids[.., ..5], cache);
        var stepped = model.ForwardLast(ids[.., 5..], cache);
        var full = model.forward(ids);
        Assert.True(prefilled.allclose(full[.., 4], atol: 1e-5));
        Assert.True(stepped.allclose(full[.., 5], atol: 1e-5));
        Assert.Equal(6, cache.Length);
    }

    [Fact]
    public void A_prompt_longer_than_the_block_keeps_its_newest_tokens()
    {
        using var model = Model(16);
        var prompt = Enumerable.Range(0, 40).Select(i => i % 50).ToArray();
        var ids = Sampler.Generate(model, prompt, new SamplingOptions(30, 0.0));
        Assert.Equal(30, ids.Length);
        Assert.Equal(Sampler.Generate(model, prompt[^16..], new SamplingOptions(30, 0.0)), ids);
    }
}
