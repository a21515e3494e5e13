using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class PrefixReuseTests
{
    private static Gpt Model()
    {
        // The head size (48 / 3 = 16) and the 50-token vocabulary leave part of a vector and of a packed panel over.
        manual_seed(37);
        var model = new Gpt(new GptConfig(VocabSize: 50, BlockSize: 200, NLayer: 2, NHead: 3, NEmbd: 48));
        model.eval();
        return model;
    }

    private static int[] Tokens(int seed, int length) =>
        Enumerable.Range(0, length).Select(i => (seed * 11 + i * i * 7 + i) % 50).ToArray();

    private static Tensor Ids(IEnumerable<int> ids) => tensor(ids.Select(t => (long)t).ToArray()).unsqueeze(0);

    [Fact]
    public void Packed_prefill_gives_the_same_bits_in_one_call_in_chunks_and_after_a_restored_prefix()
    {
        using var model = Model();
        using var packed = new PackedGpt(model);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var cache = new SlotKvCache(model.Config, 4, ScalarType.Float32, CPU, keysTransposed: false);
        var window = Tokens(1, 150);

        // Oracle: the plain forward pass over the whole window.
        var whole = model.PrefillSlot(Ids(window), cache, 0, packed: packed);
        Assert.True(whole.allclose(model.forward(Ids(window))[0, -1], atol: 1e-5));

        // The same window in uneven chunks, each after what the slot holds: the same bits, logits and (the step after
        // reads them) cache alike.
        Tensor chunked = null!;
        var start = 0;
        foreach (var length in new[] { 1, 63, 70, 16 })
        {
            chunked = model.PrefillSlot(Ids(window.Skip(start).Take(length)), cache, 1, packed: packed, start: start);
            start += length;
        }
        Assert.True(whole.equal(chunked).all().item<bool>());
        var next = model.DecodeSlots(tensor(new long[] { 9, 9 }), tensor(new long[] { 150, 150 }), cache,
            packed: packed);
        Assert.True(next[0].equal(next[1]).all().item<bool>());

        // A second window sharing the first 130 positions: two blocks are restored and only the rest is computed.
        using var prefixes = new PrefixCache(model.Config, 10 * PrefixCache.BytesPerBlock(model.Config));
        prefixes.Store(window, 150, cache, 0);
        Assert.Equal(2, prefixes.Count);
        var other = window.Take(130).Concat(Tokens(2, 40)).ToArray();
        var cold = model.PrefillSlot(Ids(other), cache, 2, packed: packed);
        var restored = prefixes.Restore(other, cache, 3);
        Assert.Equal(128, restored);
        var warm = model.PrefillSlot(Ids(other.Skip(restored)), cache, 3, packed: packed, start: restored);
        Assert.True(cold.equal(warm).all().item<bool>());
        Assert.True(cold.allclose(model.forward(Ids(other))[0, -1], atol: 1e-5));
    }

    [Fact]
    public void A_window_keeps_its_last_position_to_compute_and_a_different_token_ends_the_match()
    {
        using var model = Model();
        using var packed = new PackedGpt(model);
        using var _ = no_grad();
        using var cache = new SlotKvCache(model.Config, 2, ScalarType.Float32, CPU, keysTransposed: false);
        using var prefixes = new PrefixCache(model.Config, 10 * PrefixCache.BytesPerBlock(model.Config));
        var window = Tokens(3, 128);
        model.PrefillSlot(Ids(window), cache, 0, packed: packed).Dispose();
        prefixes.Store(window, 128, cache, 0);
        // Exactly two blocks long: the second is not restored, or nothing would be left to give the logits.
        Assert.Equal(64, prefixes.Restore(window, cache, 1));
        Assert.Equal(128, prefixes.Restore([.. window, 7], cache, 1));
        // A token changed in the first block: nothing matches, although the second block's tokens are the same.
        var changed = window.ToArray();
        changed[5] = (changed[5] + 1) % 50;
        Assert.Equal(0, prefixes.Restore([.. changed, 7], cache, 1));
    }

    [Fact]
    public void Beyond_its_budget_the_cache_evicts_the_least_recently_used_block()
    {
        using var model = Model();
        using var packed = new PackedGpt(model);
        using var _ = no_grad();
        using var cache = new SlotKvCache(model.Config, 1, ScalarType.Float32, CPU, keysTransposed: false);
        // Room for two blocks and a half.
        using var prefixes = new PrefixCache(model.Config, 5 * PrefixCache.BytesPerBlock(model.Config) / 2);
        Assert.Equal(2, prefixes.Capacity);
        var (a, b, c) = (Tokens(4, 70), Tokens(5, 70), Tokens(6, 70));
        foreach (var window in new[] { a, b })
        {
            model.PrefillSlot(Ids(window), cache, 0, packed: packed).Dispose();
            prefixes.Store(window, 70, cache, 0);
        }
        Assert.Equal(64, prefixes.Restore(a, cache, 0)); // a is now the more recently used
        model.PrefillSlot(Ids(c), cache, 0, packed: packed).Dispose();
        prefixes.Store(c, 70, cache, 0);
        Assert.Equal(2, prefixes.Count);
        Assert.Equal(0, prefixes.Restore(b, cache, 0));
        Assert.Equal(64, prefixes.Restore(a, cache, 0));
        Assert.Equal(64, prefixes.Restore(c, cache, 0));
    }

    [Fact]
    public async Task Requests_sharing_a_prefix_reuse_it_and_get_the_tokens_they_get_without_reuse()
    {
        using var model = Model();
        var system = Tokens(7, 140);
        int[] first = [.. system, 1, 2, 3], second = [.. system, 4, 5];
        var sampling = new SamplingOptions(40, 0.9, TopK: 20, Seed: 3);

        // Oracle: each request alone, in a batcher that keeps no prefixes.
        var none = new ContinuousBatchingOptions { PrefixCacheBytes = 0 };
        SampledToken[] firstAlone, secondAlone;
        using (var batcher = new ContinuousBatcher(model, null, null, none))
        {
            firstAlone = await ContinuousBatcherTests.ReadTokens(batcher.TrySubmit(first, [sampling])![0]);
            secondAlone = await ContinuousBatcherTests.ReadTokens(batcher.TrySubmit(second, [sampling])![0]);
            Assert.Equal(0, batcher.PrefixTokensReused);
        }

        // The second request arrives while the first decodes: it restores the first's two whole blocks, and the rest
        // of its prompt is prefilled 8 positions a step between the first's tokens.
        using (var batcher = new ContinuousBatcher(model, null, null,
            new ContinuousBatchingOptions { PrefillChunkTokens = 8 }))
        {
            var firstTokens = batcher.TrySubmit(first, [sampling])![0];
            await firstTokens.Tokens.WaitToReadAsync();
            var secondTokens = ContinuousBatcherTests.ReadTokens(batcher.TrySubmit(second, [sampling])![0]);
            Assert.Equal(firstAlone, await ContinuousBatcherTests.ReadTokens(firstTokens));
            Assert.Equal(secondAlone, await secondTokens);
            Assert.Equal(128, batcher.PrefixTokensReused);
        }
    }
}
