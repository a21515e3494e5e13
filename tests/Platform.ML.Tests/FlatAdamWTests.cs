using Platform.ML;
using TorchSharp;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class FlatAdamWTests
{
    private static readonly GptConfig Config = new(8, 16, 2, 2, 32);
    private static readonly Trainer Trainer = new(new TrainerOptions
    {
        LearningRate = 0.01,
        WeightDecay = 0.1,
        Beta2 = 0.99
    });

    [Fact]
    public void Its_clipping_matches_torch_clip_grad_norm()
    {
        // The oracle is TorchSharp's clip_grad_norm_ on an identical model with the same gradients.
        using var twins = new Twins(seed: 5);
        var (reference, flatModel, flat) = (twins.Reference, twins.FlatModel, twins.Flat);
        using var scope = NewDisposeScope();
        var x = randint(0, 8, [4, 16], dtype: ScalarType.Int64);
        Trainer.AccumulateGradients(reference, [(x, x)], 1);
        flat.ZeroGrad();
        Trainer.AccumulateGradients(flatModel, [(x, x)], 1);

        var referenceNorm = nn.utils.clip_grad_norm_(reference.parameters(), 0.05);
        var flatNorm = flat.ClipGradNorm(0.05);

        Assert.True(referenceNorm > 0.05, "the clip was meant to act");
        Assert.Equal(referenceNorm, flatNorm, 1e-5 * referenceNorm);
        foreach (var (expected, actual) in reference.parameters().Zip(flatModel.parameters()))
            Assert.True(actual.grad!.allclose(expected.grad!, rtol: 1e-5, atol: 1e-9));
        // Below the bound nothing moves.
        using var before = flatModel.parameters().First().grad!.clone();
        flat.ClipGradNorm(1e6);
        Assert.True(flatModel.parameters().First().grad!.eq(before).all().item<bool>());
    }

    [Fact]
    public void Without_clipping_the_update_is_bit_for_bit_TorchSharps()
    {
        using var twins = new Twins(seed: 6);
        var (reference, flatModel, flat) = (twins.Reference, twins.FlatModel, twins.Flat);
        var (referenceOptimizer, flatOptimizer) = (twins.ReferenceOptimizer, twins.FlatOptimizer);
        for (var step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            var x = randint(0, 8, [4, 16], dtype: ScalarType.Int64);
            referenceOptimizer.zero_grad();
            Trainer.AccumulateGradients(reference, [(x, x)], 1);
            referenceOptimizer.step();
            flat.ZeroGrad();
            Trainer.AccumulateGradients(flatModel, [(x, x)], 1);
            flat.Step();
        }
        foreach (var (expected, actual) in reference.parameters().Zip(flatModel.parameters()))
            Assert.True(actual.eq(expected).all().item<bool>());
        var states = referenceOptimizer.state_dict().State.Cast<TorchSharp.Modules.AdamW.State>()
            .Zip(flatOptimizer.state_dict().State.Cast<TorchSharp.Modules.AdamW.State>());
        foreach (var (expected, actual) in states)
        {
            Assert.Equal(3, actual.step);
            Assert.True(actual.exp_avg.eq(expected.exp_avg).all().item<bool>());
            Assert.True(actual.exp_avg_sq.eq(expected.exp_avg_sq).all().item<bool>());
        }
    }

    [Fact]
    public void A_checkpoint_saved_through_it_restores_into_a_plain_AdamW_and_back()
    {
        // The state lives in the wrapped AdamW, so a checkpoint keeps its format: what one saves, the other restores.
        manual_seed(7);
        using var model = new Gpt(Config);
        using var optimizer = Trainer.CreateOptimizer(model);
        using var flat = new FlatAdamW(optimizer);
        using (var scope = NewDisposeScope())
        {
            var x = randint(0, 8, [4, 16], dtype: ScalarType.Int64);
            flat.ZeroGrad();
            Trainer.AccumulateGradients(model, [(x, x)], 1);
            flat.Step();
        }
        using var saved = new MemoryStream();
        TrainingCheckpoint.Save(saved, model, optimizer, new Generator(1), 1, null);

        manual_seed(8);
        using var restoredModel = new Gpt(Config);
        using var restoredOptimizer = Trainer.CreateOptimizer(restoredModel);
        saved.Position = 0;
        TrainingCheckpoint.Restore(saved, restoredModel, restoredOptimizer, new Generator(1));
        foreach (var (expected, actual) in model.parameters().Zip(restoredModel.parameters()))
            Assert.True(actual.eq(expected).all().item<bool>());
        var states = optimizer.state_dict().State.Cast<TorchSharp.Modules.AdamW.State>().Zip(
            restoredOptimizer.state_dict().State.Cast<TorchSharp.Modules.AdamW.State>());
        foreach (var (expected, actual) in states)
        {
            Assert.Equal(1, actual.step);
            Assert.True(actual.exp_avg.eq(expected.exp_avg).all().item<bool>());
            Assert.True(actual.exp_avg_sq.eq(expected.exp_avg_sq).all().item<bool>());
        }

        // And restoring into an optimizer already on flat buffers writes into them, which the model's parameters see.
        using var again = new Gpt(Config);
        using var againOptimizer = Trainer.CreateOptimizer(again);
        using var againFlat = new FlatAdamW(againOptimizer);
        saved.Position = 0;
        TrainingCheckpoint.Restore(saved, again, againOptimizer, new Generator(1));
        foreach (var (expected, actual) in model.parameters().Zip(again.parameters()))
            Assert.True(actual.eq(expected).all().item<bool>());
    }

    /// <summary>Two identical models (the same seed): one with TorchSharp's AdamW, one with the same AdamW under
    /// FlatAdamW.</summary>
    private sealed class Twins : IDisposable
    {
        public Gpt Reference { get; }
        public Gpt FlatModel { get; }
        public TorchSharp.Modules.AdamW ReferenceOptimizer { get; }
        public TorchSharp.Modules.AdamW FlatOptimizer { get; }
        public FlatAdamW Flat { get; }

        public Twins(int seed)
        {
            manual_seed(seed);
            Reference = new Gpt(Config);
            manual_seed(seed);
            FlatModel = new Gpt(Config);
            ReferenceOptimizer = Trainer.CreateOptimizer(Reference);
            FlatOptimizer = Trainer.CreateOptimizer(FlatModel);
            Flat = new FlatAdamW(FlatOptimizer);
        }

        public void Dispose()
        {
            Flat.Dispose();
            FlatOptimizer.Dispose();
            ReferenceOptimizer.Dispose();
            FlatModel.Dispose();
            Reference.Dispose();
        }
    }
}
