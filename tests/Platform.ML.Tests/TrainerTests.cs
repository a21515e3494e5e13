using Platform.ML;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class TrainerTests
{
    private sealed class Recorder : ITrainingObserver
    {
        public List<StepReport> Steps { get; } = [];
        public List<EvalReport> Evals { get; } = [];
        public void OnStep(StepReport report) => Steps.Add(report);
        public void OnEval(EvalReport report) => Evals.Add(report);
    }

    private static int[] Repeating(int length) =>
        Enumerable.Range(0, length).Select(i => "abcdefgh"[i % 8] - 'a').ToArray();

    [Fact]
    public void Weight_decay_applies_to_matrices_and_embeddings_only()
    {
        manual_seed(0);
        using var model = new Gpt(new GptConfig(8, 8, 2, 2, 16));
        var (decay, noDecay) = Trainer.WeightDecayGroups(model);
        Assert.All(decay, p => Assert.True(p.dim() >= 2));
        Assert.All(noDecay, p => Assert.True(p.dim() == 1));
        // 2 layers × (attn, proj, fc, proj) matrices + wte + wpe; 2 layers × (2 LN × 2 + 4 biases) + final LN × 2.
        Assert.Equal(2 * 4 + 2, decay.Count);
        Assert.Equal(2 * 8 + 2, noDecay.Count);
        Assert.Equal(model.parameters().Count(), decay.Count + noDecay.Count);
        using var optimizer = new Trainer(new TrainerOptions { WeightDecay = 0.1 }).CreateOptimizer(model);
        Assert.Equal(2, optimizer.ParamGroups.Count());
    }

    [Fact]
    public void The_training_validation_loss_and_the_evaluation_loss_are_one_quantity_over_the_real_vocabulary()
    {
        // A validation split of exactly one window (blockSize + 2 tokens: random starts can only be 0, and the held-out
        // evaluation takes one window at 0): the trainer's estimate and the evaluation both score the same 8
        // predictions.
        manual_seed(4);
        var config = new GptConfig(VocabSize: 5, BlockSize: 8, NLayer: 1, NHead: 2, NEmbd: 16);
        using var model = new Gpt(config);
        var window = new[] { 0, 3, 1, 4, 2, 2, 0, 1, 3, 4 };
        using var train = new TokenBatches(Repeating(200).Select(t => t % 5).ToArray(), 8, CPU);
        using var validation = new TokenBatches(window, 8, CPU);
        var recorder = new Recorder();
        new Trainer(new TrainerOptions { MaxSteps = 0, BatchSize = 2, EvalIters = 1, EvalInterval = 1 }).Train(model,
            train, validation, recorder, CancellationToken.None);
        var evaluated = HeldOutEvaluator.Evaluate(model, validation, bytesPerToken: 1);

        // Hand computation: log-softmax over the 5 real tokens of logits h·wteᵀ, taken from the padded table's first 5
        // rows.
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = tensor(window[..8].Select(t => (long)t).ToArray()).unsqueeze(0);
        var logits = model.forward(x)[0];
        var expected = -Enumerable.Range(0, 8).Average(t =>
            nn.functional.log_softmax(logits[t], 0)[window[t + 1]].item<float>());

        Assert.Equal(expected, recorder.Evals.Single().ValidationLoss, 4);
        Assert.Equal(expected, evaluated.Loss, 4);
        // At initialisation the loss is near ln 5 (the real vocabulary), not ln 64 (the padded table).
        Assert.InRange(expected, Math.Log(5) - 0.3, Math.Log(5) + 0.3);
    }

    [Fact]
    public void A_run_in_epochs_is_evaluated_after_each_epochs_last_step()
    {
        manual_seed(2);
        using var model = new Gpt(new GptConfig(8, 8, 1, 2, 16));
        using var train = new TokenBatches(Repeating(200), 8, CPU);
        using var validation = new TokenBatches(Repeating(100), 8, CPU);
        var recorder = new Recorder();
        new Trainer(new TrainerOptions
        {
            MaxSteps = 21,
            StepsPerEpoch = 7,
            BatchSize = 2,
            EvalInterval = 10,
            EvalIters = 1,
            WarmupSteps = 0,
        }).Train(model, train, validation, recorder, CancellationToken.None);
        // Every 10 steps, at the end, and at the end of each epoch of 7.
        Assert.Equal([0, 7, 10, 14, 20, 21], recorder.Evals.Select(e => e.Step));
    }

    [Fact]
    public void Training_on_a_repeating_sequence_drives_the_loss_down_and_reports_progress()
    {
        manual_seed(1);
        using var model = new Gpt(new GptConfig(8, 16, 2, 2, 32));
        using var train = new TokenBatches(Repeating(2000), 16, CPU);
        using var validation = new TokenBatches(Repeating(400), 16, CPU);
        var recorder = new Recorder();
        var outcome = new Trainer(new TrainerOptions
        {
            MaxSteps = 120,
            BatchSize = 8,
            LearningRate = 3e-3,
            MinLearningRate = 3e-4,
            WarmupSteps = 10,
            EvalInterval = 60,
            EvalIters = 2,
            LogInterval = 10,
            Seed = 3,
        }).Train(model, train, validation, recorder, CancellationToken.None);

        Assert.Equal(120, outcome.Steps);
        Assert.Equal(new[] { 0, 60, 120 }, recorder.Evals.Select(e => e.Step));
        // The softmax covers the 8 real ids, not the table's 64 padded rows: the first loss is near ln 8.
        Assert.InRange(recorder.Steps[0].Loss, Math.Log(8) - 0.5, Math.Log(8) + 0.5);
        Assert.True(outcome.FinalTrainLoss < 0.5,
            $"final loss {outcome.FinalTrainLoss} should be far below the initial ln 8 ≈ 2.08");
        Assert.True(recorder.Evals[^1].ValidationLoss < recorder.Evals[0].ValidationLoss / 3);
        Assert.All(recorder.Steps, s => Assert.True(s.TokensPerSecond > 0 && s.GradNorm >= 0));
        Assert.Equal(119, recorder.Steps[^1].Step);
    }

    [Fact]
    public void Same_seed_gives_the_same_losses()
    {
        double Run()
        {
            manual_seed(5);
            using var model = new Gpt(new GptConfig(8, 8, 1, 2, 16));
            using var data = new TokenBatches(Repeating(500), 8, CPU);
            return new Trainer(new TrainerOptions
            {
                MaxSteps = 20,
                BatchSize = 4,
                EvalInterval = 100,
                EvalIters = 1,
                Seed = 9
            })
                .Train(model, data, data, new Recorder(), CancellationToken.None).FinalTrainLoss;
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void A_cancelled_token_stops_training()
    {
        manual_seed(2);
        using var model = new Gpt(new GptConfig(8, 8, 1, 2, 16));
        using var data = new TokenBatches(Repeating(500), 8, CPU);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new Trainer(new TrainerOptions { MaxSteps = 1000, EvalInterval = 1000, EvalIters = 1 }).Train(model, data,
            data, new Recorder(), cancelled.Token));
    }

    [Fact]
    public void Batches_are_windows_of_the_data_with_targets_shifted_by_one()
    {
        var ids = Enumerable.Range(0, 100).ToArray();
        using var batches = new TokenBatches(ids, 10, CPU);
        using var scope = NewDisposeScope();
        var (x, y) = batches.Sample(6, new Generator(4));
        Assert.Equal(new long[] { 6, 10 }, x.shape);
        Assert.True((y - x).eq(1).all().item<bool>(), "each target is the next token");
        Assert.True(x[.., 1..].eq(x[.., ..^1] + 1).all().item<bool>(), "each row is a contiguous window");
    }

    [Fact]
    public void Too_little_data_for_the_block_size_is_rejected_with_a_reason()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TokenBatches([1, 2, 3], 8, CPU));
        Assert.Contains("too few", ex.Message);
    }
}

public class TokenFileBatchesTests
{
    [Fact]
    public void A_memory_mapped_token_file_gives_the_same_batches_as_its_ids_in_memory()
    {
        var ids = Enumerable.Range(0, 300).Select(i => (i * 37) % 70_000).ToArray();
        var path = Path.GetTempFileName();
        try
        {
            using (var stream = File.Create(path))
            using (var writer = new Platform.Tokenizers.TokenFileWriter(stream, Platform.Tokenizers.TokenDType.UInt32))
                writer.Write(ids);
            using (var sidecar = File.Create(Platform.Tokenizers.TokenFileInfo.SidecarPath(path)))
                new Platform.Tokenizers.TokenFileInfo(Platform.Tokenizers.TokenDType.UInt32, ids.Length, 70_000,
                    Guid.NewGuid()).Write(sidecar);

            using var mapped = TokenBatches.FromFile(path, 16, CPU);
            using var memory = new TokenBatches(ids, 16, CPU);
            using var scope = NewDisposeScope();
            var (mx, my) = mapped.Sample(5, new Generator(9));
            var (ax, ay) = memory.Sample(5, new Generator(9));
            Assert.True(mx.eq(ax).all().item<bool>() && my.eq(ay).all().item<bool>());
            Assert.Equal(300, mapped.Length);
        }
        finally
        {
            File.Delete(path);
            File.Delete(Platform.Tokenizers.TokenFileInfo.SidecarPath(path));
        }
    }
}
