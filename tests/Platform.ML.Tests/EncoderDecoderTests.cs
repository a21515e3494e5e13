using Platform.ML;
using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class EncoderDecoderTests
{
    // Ids 0-2 are <pad>, <s>, </s> on both sides, as the tokenization service lays them out.
    private static readonly PairSpecialIds Specials = new(0, 1, 2);

    internal static EncoderDecoderConfig Config(bool shared = true, double dropout = 0.0, bool bias = true) =>
        new(SourceVocabSize: 20, TargetVocabSize: shared ? 20 : 17, NEncoderLayer: 2, NDecoderLayer: 2, NHead: 2,
        NEmbd: 32,
            MaxSourceLength: 16, MaxTargetLength: 16, Specials, Specials, shared, dropout, bias);

    private static EncoderDecoder Model(EncoderDecoderConfig? config = null, int seed = 5)
    {
        manual_seed(seed);
        var model = new EncoderDecoder(config ?? Config());
        model.eval();
        return model;
    }

    private static Tensor Ids(params long[][] rows) =>
        tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void The_parameter_count_formula_matches_the_model(bool shared, bool bias)
    {
        var config = Config(shared, bias: bias);
        using var model = Model(config);
        Assert.Equal(model.parameters().Sum(p => p.numel()), config.Parameters);
    }

    [Fact]
    public void Cross_attention_maps_decoder_positions_over_encoder_positions()
    {
        using var scope = NewDisposeScope();
        using var attention = new CrossAttention(nEmbd: 32, nHead: 4, dropout: 0, bias: true);
        var decoderStates = randn(3, 5, 32);
        var encoderStates = randn(3, 9, 32);
        var (keys, values) = attention.KeysValues(encoderStates);
        Assert.Equal(new long[] { 3, 4, 9, 8 }, keys.shape);
        Assert.Equal(new long[] { 3, 4, 9, 8 }, values.shape);
        var mask = ones(3, 1, 1, 9, dtype: ScalarType.Bool);
        Assert.Equal(new long[] { 3, 5, 32 }, attention.forward(decoderStates, encoderStates, mask).shape);
    }

    [Fact]
    public void A_padded_source_or_target_position_changes_nothing_at_the_real_positions()
    {
        using var model = Model();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var source = Ids([7, 8, 9, 2]);
        var target = Ids([1, 5, 6]);
        var plain = model.forward(source, target);
        // The same pair padded on both sides, batched with a longer pair as the data loader would.
        var paddedSource = Ids([7, 8, 9, 2, 0, 0, 0], [3, 4, 5, 6, 10, 11, 2]);
        var paddedTarget = Ids([1, 5, 6, 0, 0], [1, 9, 9, 9, 9]);
        var padded = model.forward(paddedSource, paddedTarget);
        Assert.True(plain[0].allclose(padded[0, ..3], rtol: 1e-5, atol: 1e-5),
            "padding changed the real positions' logits");
        // What the padding holds is irrelevant too: its embedding is masked out of every attention.
        var otherPadding = model.forward(Ids([7, 8, 9, 2, 0, 0, 0]), Ids([1, 5, 6, 0, 0]));
        Assert.True(padded[0].allclose(otherPadding[0], rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void The_loss_ignores_padding_labels_and_label_smoothing_follows_its_definition()
    {
        using var model = Model();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var source = Ids([7, 8, 9, 2]);
        var input = Ids([1, 5, 6, 0]);
        var labels = Ids([5, 6, 2, 0]);
        var logits = model.forward(source, input);
        var real = logits[.., ..3, ..20];
        var logProbabilities = nn.functional.log_softmax(real, -1)[0];

        // By hand: mean over the three real labels of −log p(label); smoothing ε adds ε·(mean over classes of −log p −
        // nll).
        double nll = 0, uniform = 0;
        long[] expected = [5, 6, 2];
        for (var t = 0; t < 3; t++)
        {
            nll += -logProbabilities[t, expected[t]].item<float>();
            uniform += -logProbabilities[t].mean().item<float>();
        }
        nll /= 3;
        uniform /= 3;
        Assert.Equal(nll, model.Loss(logits, labels).item<float>(), 4);
        const double epsilon = 0.1;
        Assert.Equal((1 - epsilon) * nll + epsilon * uniform, model.Loss(logits, labels, epsilon).item<float>(), 4);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Cached_decoding_gives_the_tokens_of_recomputation_for_greedy_sampling_and_beam_search(
        bool sharedEmbeddings)
    {
        using var model = Model(Config(sharedEmbeddings), seed: sharedEmbeddings ? 8 : 12);
        int[] source = [4, 9, 12, 3, 7, 2];
        foreach (var options in new[] { new SamplingOptions(12, 0.0), new SamplingOptions(12, 1.0, TopK: 8, Seed: 3) })
        {
            using var cached = new EncoderDecoderSession(model, source);
            using var recomputed = new EncoderDecoderSession(model, source, useCache: false);
            var a = Seq2SeqGeneration.Stream(cached, Specials, options).Select(t => t.Id).ToArray();
            var b = Seq2SeqGeneration.Stream(recomputed, Specials, options).Select(t => t.Id).ToArray();
            Assert.NotEmpty(a);
            Assert.Equal(b, a);
        }
        foreach (var numBeams in new[] { 1, 4 })
        {
            var beam = new BeamSearchOptions(numBeams, 12, LengthPenalty: 0.8, NoRepeatNgramSize: 3);
            using var cached = new EncoderDecoderSession(model, source);
            using var recomputed = new EncoderDecoderSession(model, source, useCache: false);
            var a = BeamSearch.Search(cached, Specials, beam);
            var b = BeamSearch.Search(recomputed, Specials, beam);
            Assert.Equal(b.Tokens, a.Tokens);
            Assert.Equal(b.Score, a.Score, 4);
        }
    }

    /// <summary>The decoder packed for decoding computes LibTorch's logits step by step, through reorders, up to the
    /// order of fp32 additions, and greedy decoding and beam search give the same tokens.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_packed_decoder_computes_LibTorchs_logits_and_tokens(bool sharedEmbeddings)
    {
        using var model = Model(Config(sharedEmbeddings), seed: sharedEmbeddings ? 8 : 12);
        Assert.True(PackedEncoderDecoder.Supports(model));
        using var packed = new PackedEncoderDecoder(model);
        int[] source = [4, 9, 12, 3, 7, 2];
        using (var scope = NewDisposeScope())
        {
            using var plain = new EncoderDecoderSession(model, source);
            using var fast = new EncoderDecoderSession(model, source, packed: packed);
            List<List<int>> rows = [[1]];
            var bitsDiffer = false;
            for (var step = 0; step < 6; step++)
            {
                var (expected, actual) = (plain.NextLogits(rows), fast.NextLogits(rows));
                Assert.True(allclose(actual, expected, rtol: 1e-5, atol: 1e-5),
                    $"step {step}: largest difference {(actual - expected).abs().max().item<float>()}");
                bitsDiffer |= !actual.equal(expected).all().item<bool>();
                long[] order = step == 0 ? [0, 0, 0] : [2, 0, 1];
                plain.Reorder(order);
                fast.Reorder(order);
                rows = [.. order.Select((r, i) => rows[(int)r].Append(3 + (step + i) % 7).ToList())];
            }
            // Other kernels sum in another order: identical bits throughout would mean the packed weights were unused.
            Assert.True(bitsDiffer);
        }
        var greedy = new SamplingOptions(12, 0.0);
        using (var plain = new EncoderDecoderSession(model, source))
        using (var fast = new EncoderDecoderSession(model, source, packed: packed))
            Assert.Equal(Seq2SeqGeneration.Stream(plain, Specials, greedy).Select(t => t.Id),
                Seq2SeqGeneration.Stream(fast, Specials, greedy).Select(t => t.Id));
        var beam = new BeamSearchOptions(4, 12, LengthPenalty: 0.8);
        using (var plain = new EncoderDecoderSession(model, source))
        using (var fast = new EncoderDecoderSession(model, source, packed: packed))
        {
            var (a, b) = (BeamSearch.Search(plain, Specials, beam), BeamSearch.Search(fast, Specials, beam));
            Assert.Equal(a.Tokens, b.Tokens);
            Assert.Equal(a.Score, b.Score, 4);
        }
    }

    [Fact]
    public void An_encoder_decoder_run_resumed_from_its_checkpoint_continues_exactly()
    {
        var path = PairFileTests.WriteCopyTask(Path.GetTempFileName(), 200);
        try
        {
            var config = Config(dropout: 0.1);
            var options = new TrainerOptions
            {
                MaxSteps = 20,
                BatchSize = 8,
                LearningRate = 3e-3,
                WarmupSteps = 2,
                EvalInterval = 10,
                EvalIters = 2,
                LogInterval = 1,
                Seed = 4,
            };
            using var batches = PairBatches.FromFile(path, config, CPU);
            using var straight = Model(config with { }, seed: 1);
            var uninterrupted = new CheckpointRecorder();
            new Trainer(options).Train(new EncoderDecoderTraining(straight, batches, batches, 0.1), uninterrupted,
                CancellationToken.None);

            using var resumedModel = Model(config, seed: 77);
            var resumed = new CheckpointRecorder();
            using var checkpoint = new MemoryStream(uninterrupted.Checkpoints[10]);
            var outcome = new Trainer(options).Train(new EncoderDecoderTraining(resumedModel, batches, batches, 0.1),
                resumed, CancellationToken.None, checkpoint);
            Assert.Equal(10, outcome.StartStep);
            Assert.Equal(uninterrupted.Steps.Where(s => s.Step >= 10).Select(s => s.Loss),
                resumed.Steps.Select(s => s.Loss));
            Assert.True(uninterrupted.Steps[^1].Loss < uninterrupted.Steps[0].Loss, "the loss did not fall");
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".json");
        }
    }

    [Fact]
    public void Bf16_compute_gives_nearly_the_fp32_loss_and_gradients_reach_every_parameter()
    {
        using var model = Model(Config(shared: false));
        model.train();
        using var scope = NewDisposeScope();
        var (source, input, labels) = (Ids([7, 8, 9, 2, 0], [3, 4, 5, 6, 2]), Ids([1, 5, 6, 0], [1, 9, 9, 9]),
            Ids([5, 6, 2, 0], [9, 9, 9, 2]));
        // Target ids stay below the separate target vocabulary (17).
        var fp32 = model.Loss(model.forward(source, input), labels);
        // The same weights computing in bf16.
        using var mixed = new EncoderDecoder(model.Config with { ComputeType = ScalarType.BFloat16 });
        mixed.load_state_dict(model.state_dict());
        mixed.train();
        var bf16 = mixed.Loss(mixed.forward(source, input), labels);
        Assert.Equal(fp32.item<float>(), bf16.item<float>(), 1);
        bf16.backward();
        // Every parameter learns, the unshared source embedding and the cross-attention included (padding rows aside).
        Assert.All(mixed.named_parameters(), p =>
            Assert.True(p.parameter.grad is not null && p.parameter.grad.abs().sum().item<float>() > 0, p.name));
    }

    [Fact]
    public void A_saved_encoder_decoder_loads_back_with_the_same_logits()
    {
        using var model = Model(Config(shared: false));
        using var stream = new MemoryStream();
        Checkpoint.Save(model, stream);
        stream.Position = 0;
        using var loaded = (EncoderDecoder)Checkpoint.LoadAny(stream);
        Assert.Equal(model.Config, loaded.Config);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (source, input) = (Ids([3, 4, 5, 2]), Ids([1, 6, 7]));
        Assert.True(model.forward(source, input).allclose(loaded.forward(source, input)));
        Assert.Throws<InvalidDataException>(() => { stream.Position = 0; Checkpoint.Load(stream); });
    }

}

public class PairFileTests
{
    /// <summary>Pairs whose target is the source's ids (3..19) in reverse, of lengths 1 to 8, and the
    /// sidecar.</summary>
    internal static string WriteCopyTask(string path, int count)
    {
        var random = new Random(3);
        var pairs = Enumerable.Range(0, count).Select(_ =>
        {
            var source = Enumerable.Range(0, random.Next(1, 9)).Select(_ => random.Next(3, 20)).ToArray();
            return (source, source.Reverse().Select(i => i % 17).ToArray());
        }).ToList();
        using (var stream = File.Create(path))
            PairFile.Write(stream, pairs);
        return path;
    }

    [Fact]
    public void Pairs_come_back_in_length_order_and_batches_pad_to_their_own_longest()
    {
        var path = WriteCopyTask(Path.GetTempFileName(), 50);
        try
        {
            using var reader = PairFile.Open(path);
            Assert.Equal(50, reader.Count);
            var lengths = Enumerable.Range(0, 50).Select(reader.TargetLength).ToArray();
            Assert.Equal(lengths.Order(), lengths);
            Assert.All(Enumerable.Range(0, 50), i =>
                Assert.Equal(reader.Source(i).Reverse().Select(x => x % 17), reader.Target(i)));

            using var batches = new PairBatches(PairFile.Open(path), EncoderDecoderTests.Config(), CPU);
            using var scope = NewDisposeScope();
            var batch = batches.At([0, 1]);
            var (shortest, _) = batches.Pair(1);
            // The two shortest pairs: one token and </s>, so two columns, not the file's longest.
            Assert.Equal(shortest.Length + 1, batch.Source.shape[1]);
            Assert.Equal(new long[] { shortest[0], 2 }, batch.Source[1].data<long>().ToArray());
            Assert.Equal(1, batch.DecoderInput[1, 0].item<long>());
            Assert.Equal(2, batch.Labels[1, ^1].item<long>());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
