using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class ContinuousBatcherTests
{
    private static Gpt Model(int blockSize, int embedding = 32)
    {
        manual_seed(31);
        var model = new Gpt(new GptConfig(VocabSize: 50, BlockSize: blockSize, NLayer: 2, NHead: 2, NEmbd: embedding));
        model.eval();
        return model;
    }

    private static async Task<int[]> ReadAll(DecodingSequence sequence) =>
        (await ReadTokens(sequence)).Select(t => t.Id).ToArray();

    internal static async Task<SampledToken[]> ReadTokens(DecodingSequence sequence)
    {
        var tokens = new List<SampledToken>();
        await foreach (var token in sequence.Tokens.ReadAllAsync())
            tokens.Add(token);
        return [.. tokens];
    }

    private static int[] Prompt(int seed, int length) =>
        Enumerable.Range(0, length).Select(i => (seed * 7 + i * 13) % 50).ToArray();

    public static TheoryData<bool> PackedOrNot => new() { false, true };

    [Theory]
    [MemberData(nameof(PackedOrNot))]
    public void A_decoding_step_gives_each_row_the_logits_of_a_full_forward_pass_over_its_own_window(bool packedWeights)
    {
        // Oracle: the plain forward pass over each sequence alone. Rows sit at different positions in one step; the
        // head size (48 / 3 = 16) and the 50-token vocabulary leave part of a vector and of a packed panel over.
        manual_seed(31);
        using var model = new Gpt(new GptConfig(VocabSize: 50, BlockSize: 36, NLayer: 2, NHead: 3, NEmbd: 48));
        model.eval();
        using var packed = packedWeights ? new PackedGpt(model) : null;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var cache = new SlotKvCache(model.Config, 4, ScalarType.Float32, CPU, keysTransposed: !packedWeights);
        int[][] windows = [Prompt(1, 5), Prompt(2, 17), Prompt(3, 2), Prompt(4, 36)];
        for (var slot = 0; slot < windows.Length; slot++)
        {
            var prefilled = model.PrefillSlot(Ids(windows[slot][..^1]), cache, slot, packed: packed);
            Assert.True(prefilled.allclose(model.forward(Ids(windows[slot][..^1]))[0, -1], atol: 1e-5));
        }
        // Every row feeds its window's last token at its own position.
        var ids = windows.Select(w => (long)w[^1]).ToArray();
        var positions = windows.Select(w => (long)w.Length - 1).ToArray();
        var logits = model.DecodeSlots(tensor(ids), tensor(positions), cache, packed: packed);
        for (var row = 0; row < windows.Length; row++)
            Assert.True(logits[row].allclose(model.forward(Ids(windows[row]))[0, -1], atol: 1e-5), $"row {row}");
    }

    private static Tensor Ids(int[] ids) => tensor(ids.Select(t => (long)t).ToArray()).unsqueeze(0);

    public static TheoryData<double, int, int, bool, bool> Cases()
    {
        var cases = new TheoryData<double, int, int, bool, bool>();
        // Packed weights (no padding rows), and LibTorch's products (padded to MinimumRows).
        foreach (var packed in new[] { true, false })
        {
            cases.Add(0.0, 128, 1, packed, false); // greedy, one intra-op thread
            cases.Add(0.9, 128, 1, packed, false); // seeded sampling
            cases.Add(0.0, 128, 2, packed, false); // two threads: LibTorch's products split their rows between them
            cases.Add(0.9, 128, 2, packed, false);
            // greedy across several window restarts (each 24 positions, restarting at 12)
            cases.Add(0.0, 24, 2, packed, false);
            cases.Add(0.8, 24, 1, packed, false);  // seeded sampling across window restarts
        }
        // Int8 weights, sharing each product with a second thread.
        cases.Add(0.0, 128, 2, true, true);
        cases.Add(0.9, 24, 2, true, true);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_requests_tokens_are_the_same_alone_and_in_a_batch_of_16(double temperature, int blockSize,
        int threads, bool packedWeights, bool int8)
    {
        var threadsBefore = get_num_threads();
        set_num_threads(threads);
        try
        {
            using var model = Model(blockSize, embedding: 128);
            var options = new ContinuousBatchingOptions
            {
                PackedWeights = packedWeights,
                Int8Weights = int8,
                ProductThreads = int8 ? 2 : 1,
                // With packed weights, prompts arriving while the target decodes are prefilled 4 positions a step.
                PrefillChunkTokens = 4,
            };
            var target = new SamplingOptions(80, temperature, TopK: 20, Seed: 11) { FrequencyPenalty = 0.3 };
            int[] prompt = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7];

            // Tokens and their log-probabilities, compared bit for bit: a rounding difference anywhere in the step
            // shows.
            // Alone and plain: with packed weights the batch below drafts tokens by prompt lookup too.
            SampledToken[] alone;
            using (var batcher = new ContinuousBatcher(model, null, null, options with { SpeculativeTokens = 0 }))
                alone = await ReadTokens(batcher.TrySubmit(prompt, [target])![0]);
            Assert.Equal(80, alone.Length);

            // The same request among 15 others of other prompts, seeds, settings and lengths, some joining while it
            // decodes and some leaving before it ends: the batch around it changes at many steps.
            using (var batcher = new ContinuousBatcher(model, null, null, options))
            {
                var others = new List<Task<int[]>>();
                for (var i = 0; i < 8; i++)
                    others.Add(ReadAll(batcher.TrySubmit(Prompt(i, 3 + i * 5 % 20),
                        [new SamplingOptions(10 + i * 17, i % 2 == 0 ? 0 : 1.0, Seed: i)])![0]));
                var mine = ReadTokens(batcher.TrySubmit(prompt, [target])![0]);
                for (var i = 8; i < 15; i++)
                {
                    await Task.Delay(5);
                    others.Add(ReadAll(batcher.TrySubmit(Prompt(i, 1 + i),
                        [new SamplingOptions(40 + i, 0.7, TopK: 5, Seed: i)])![0]));
                }
                Assert.Equal(alone, await mine);
                await Task.WhenAll(others);
            }
        }
        finally
        {
            set_num_threads(threadsBefore);
        }
    }

    [Fact]
    public async Task The_n_completions_of_a_request_decode_together_each_with_its_own_seed()
    {
        using var model = Model(64);
        using var batcher = new ContinuousBatcher(model, null, null, new ContinuousBatchingOptions());
        int[] prompt = [1, 2, 3];
        var sequences = batcher.TrySubmit(prompt,
            [new SamplingOptions(30, 1.0, Seed: 5), new SamplingOptions(30, 1.0, Seed: 6),
            new SamplingOptions(30, 1.0, Seed: 5)])!;
        var results = await Task.WhenAll(sequences.Select(ReadAll));
        Assert.Equal(results[0], results[2]);
        Assert.NotEqual(results[0], results[1]);
        // The same seed decoded on its own gives the same tokens.
        Assert.Equal(results[1], await ReadAll(batcher.TrySubmit(prompt, [new SamplingOptions(30, 1.0, Seed: 6)])![0]));
    }

    private static ContinuousBatcher TwoSlots(Gpt model, int maxWaiting = 16) =>
        new(model, null, null, new ContinuousBatchingOptions { MaxSequences = 2, MaxWaiting = maxWaiting });

    private static async Task<bool> Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
            await Task.Delay(10);
        return condition();
    }

    [Fact]
    public async Task Admission_is_by_cache_capacity_and_beyond_the_queue_a_request_is_refused()
    {
        using var model = Model(64);
        using var batcher = TwoSlots(model, maxWaiting: 1);
        Assert.Equal(2, batcher.Capacity);
        var endless = new SamplingOptions(1_000_000, 1.0);
        using var cancel = new CancellationTokenSource();
        var a = batcher.TrySubmit([1], [endless], cancel.Token)!;
        var b = batcher.TrySubmit([2], [endless], cancel.Token)!;
        var c = batcher.TrySubmit([3], [new SamplingOptions(5, 0.0)]);
        Assert.NotNull(c);
        Assert.True(await Eventually(() => batcher.Active == 2 && batcher.Waiting == 1));
        // Slots and queue are full; a request that could never fit is refused too.
        Assert.Null(batcher.TrySubmit([4], [endless]));
        Assert.Null(batcher.TrySubmit([4], [endless, endless, endless]));
        Assert.Equal(0, c![0].Tokens.Count);
        cancel.Cancel();
        Assert.Equal(5, (await ReadAll(c[0])).Length);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadAll(a[0]));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadAll(b[0]));
    }

    [Fact]
    public async Task A_cancelled_or_stopped_sequence_frees_its_slot_for_the_next_waiting_request()
    {
        using var model = Model(64);
        using var batcher = TwoSlots(model);
        var endless = new SamplingOptions(1_000_000, 1.0);
        using var clientLeft = new CancellationTokenSource();
        using var laterClientLeft = new CancellationTokenSource();
        var cancelled = batcher.TrySubmit([1], [endless], clientLeft.Token)![0];
        var stopped = batcher.TrySubmit([2], [endless])![0];
        var first = batcher.TrySubmit([3], [endless], laterClientLeft.Token)![0];
        var second = batcher.TrySubmit([4], [new SamplingOptions(9, 0.0)])![0];
        Assert.True(await Eventually(() => batcher.Active == 2 && batcher.Waiting == 2));
        await stopped.Tokens.ReadAsync();
        Assert.Equal(0, first.Tokens.Count);

        clientLeft.Cancel();
        await first.Tokens.ReadAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadAll(cancelled));
        Assert.Equal(1, batcher.Waiting);
        Assert.Equal(0, second.Tokens.Count);

        stopped.Stop();
        Assert.Equal(9, (await ReadAll(second)).Length);
        laterClientLeft.Cancel();
        Assert.True(await Eventually(() => batcher.Active == 0 && batcher.Waiting == 0));
    }

    [Fact]
    public void The_cache_budget_sets_the_capacity_within_the_limits()
    {
        using var model = Model(64);
        var perSlot = SlotKvCache.BytesPerSlot(model.Config, ScalarType.Float32);
        // 2 layers × (keys + values) × 64 positions × 32 wide × 4 bytes.
        Assert.Equal(2 * 2 * 64 * 32 * 4, perSlot);
        using (var batcher = new ContinuousBatcher(model, null, null,
            new ContinuousBatchingOptions { CacheBytes = 5 * perSlot + perSlot / 2 }))
            Assert.Equal(5, batcher.Capacity);
        using (var batcher = new ContinuousBatcher(model, null, null,
            new ContinuousBatchingOptions { CacheBytes = 1000 * perSlot }))
            Assert.Equal(64, batcher.Capacity);
        using (var batcher = new ContinuousBatcher(model, null, null, new ContinuousBatchingOptions { CacheBytes = 1 }))
            Assert.Equal(1, batcher.Capacity);
    }
}
