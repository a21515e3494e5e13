using Platform.ML;
using TorchSharp;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class ResumeAndOptimiserTests
{
    private static readonly GptConfig Config = new(8, 16, 2, 2, 32);
    private static readonly TrainerOptions Options = new()
    {
        MaxSteps = 40,
        BatchSize = 4,
        LearningRate = 3e-3,
        MinLearningRate = 3e-4,
        WarmupSteps = 5,
        EvalInterval = 10,
        EvalIters = 2,
        LogInterval = 1,
        Seed = 21,
    };

    private static int[] Data() => Enumerable.Range(0, 1000).Select(i => (i * 7 + i / 13) % 8).ToArray();

    [Fact]
    public void A_run_resumed_from_its_checkpoint_continues_exactly_as_if_never_stopped()
    {
        // With dropout: its masks come from the global generator, which the checkpoint restores as well.
        var config = Config with { Dropout = 0.1 };
        using var train = new TokenBatches(Data(), 16, CPU);
        manual_seed(1);
        using var straight = new Gpt(config);
        var uninterrupted = new CheckpointRecorder();
        new Trainer(Options).Train(straight, train, train, uninterrupted, CancellationToken.None);

        // A different initialisation: everything must come from the checkpoint taken at step 20.
        manual_seed(99);
        using var resumedModel = new Gpt(config);
        var resumed = new CheckpointRecorder();
        using var checkpoint = new MemoryStream(uninterrupted.Checkpoints[20]);
        var outcome = new Trainer(Options).Train(resumedModel, train, train, resumed, CancellationToken.None,
            checkpoint);

        Assert.Equal(20, outcome.StartStep);
        Assert.Equal(20, resumed.Steps[0].Step);
        Assert.Equal(uninterrupted.Steps.Where(s => s.Step >= 20).Select(s => s.Loss),
            resumed.Steps.Select(s => s.Loss));
        using var a = straight.parameters().First().detach();
        Assert.True(a.allclose(resumedModel.parameters().First(), rtol: 0, atol: 0));
        Assert.Equal(TrainingCheckpoint.ReadHeader(new MemoryStream(uninterrupted.Checkpoints[40])),
            TrainingCheckpoint.ReadHeader(new MemoryStream(resumed.Checkpoints[40])));
    }

    [Fact]
    public void Restoring_only_the_weights_of_a_training_checkpoint_gives_the_model_a_full_restore_gives()
    {
        using var train = new TokenBatches(Data(), 16, CPU);
        manual_seed(1);
        using var trained = new Gpt(Config);
        var recorder = new CheckpointRecorder();
        new Trainer(Options).Train(trained, train, train, recorder, CancellationToken.None);

        manual_seed(7);
        using var full = new Gpt(Config);
        var trainer = new Trainer(Options);
        using (var optimizer = trainer.CreateOptimizer(full))
            TrainingCheckpoint.Restore(new MemoryStream(recorder.Checkpoints[20]), full, optimizer, new Generator(0));
        manual_seed(8);
        using var weightsOnly = new Gpt(Config);
        var header = TrainingCheckpoint.RestoreWeights(new MemoryStream(recorder.Checkpoints[20]), weightsOnly, Config);

        Assert.Equal(20, header.Step);
        foreach (var (a, b) in full.parameters().Zip(weightsOnly.parameters()))
            Assert.True(a.detach().allclose(b.detach(), rtol: 0, atol: 0));
        // And not the weights at the end: step 20's are not step 40's.
        Assert.False(full.parameters().First().detach().allclose(trained.parameters().First().detach(), rtol: 0,
            atol: 0));
        Assert.Throws<InvalidDataException>(() =>
            TrainingCheckpoint.RestoreWeights(new MemoryStream(recorder.Checkpoints[20]), weightsOnly,
            Config with { Dropout = 0.2 }));
        // A checkpoint records the model's shape, not how it computes: the same shape in bf16 restores from it.
        using var mixed = new Gpt(Config with { ComputeType = ScalarType.BFloat16 });
        Assert.Equal(20, TrainingCheckpoint.RestoreWeights(new MemoryStream(recorder.Checkpoints[20]), mixed,
            mixed.Config).Step);
    }

    [Fact]
    public void Accumulating_k_micro_batches_gives_the_gradients_of_one_batch_k_times_larger()
    {
        manual_seed(3);
        using var model = new Gpt(Config);
        using var scope = NewDisposeScope();
        var x = randint(0, 8, [6, 16], dtype: ScalarType.Int64);
        var y = randint(0, 8, [6, 16], dtype: ScalarType.Int64);

        model.zero_grad();
        var whole = Trainer.AccumulateGradients(model, [(x, y)], 1);
        var expected = model.parameters().Select(p => p.grad!.clone()).ToList();

        model.zero_grad();
        var parts = Trainer.AccumulateGradients(model, [(x[..2], y[..2]), (x[2..4], y[2..4]), (x[4..], y[4..])], 3);
        var actual = model.parameters().Select(p => p.grad!).ToList();

        Assert.Equal(whole.item<float>(), parts.item<float>(), 5);
        for (var i = 0; i < expected.Count; i++)
            Assert.True(expected[i].allclose(actual[i], rtol: 1e-4, atol: 1e-6), $"gradient {i} differs");
    }

    [Fact]
    public void The_first_AdamW_step_matches_its_closed_form()
    {
        // At step one Adam's bias-corrected moments are g and g², so each weight moves by -lr·g/(|g|+eps),
        // after decoupled decay p·(1 - lr·wd) for ≥2-D tensors only.
        const double lr = 0.01, wd = 0.1, eps = 1e-8;
        manual_seed(4);
        using var model = new Gpt(Config);
        var trainer = new Trainer(new TrainerOptions { LearningRate = lr, WeightDecay = wd });
        using var optimizer = trainer.CreateOptimizer(model);
        using var scope = NewDisposeScope();
        var x = randint(0, 8, [4, 16], dtype: ScalarType.Int64);
        optimizer.zero_grad();
        var loss = Trainer.AccumulateGradients(model, [(x, x)], 1);

        var before = model.parameters().Select(p =>
            (Value: p.detach().clone(), Grad: p.grad!.clone(), Decays: p.dim() >= 2)).ToList();
        optimizer.step();
        var after = model.parameters().ToList();
        for (var i = 0; i < before.Count; i++)
        {
            var (value, grad, decays) = before[i];
            var expected = value * (decays ? 1 - lr * wd : 1.0) - lr * grad / (grad.abs() + eps);
            Assert.True(after[i].allclose(expected, rtol: 1e-4, atol: 1e-6), $"parameter {i} moved differently");
        }

        // And the loss on the same batch went down.
        using var _ = no_grad();
        Assert.True(Gpt.Loss(model.forward(x), x).item<float>() < loss.item<float>());
    }
}
