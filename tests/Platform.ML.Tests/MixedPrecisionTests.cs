using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class MixedPrecisionTests
{
    private static readonly GptConfig Config = new(VocabSize: 16, BlockSize: 16, NLayer: 2, NHead: 2, NEmbd: 32);

    [Fact]
    public void Bf16_compute_gives_fp32_logits_close_to_full_precision_and_fp32_gradients()
    {
        manual_seed(2);
        using var full32 = new Gpt(Config);
        using var scope = NewDisposeScope();
        var x = randint(0, 16, [4, 16], dtype: ScalarType.Int64);
        var y = randint(0, 16, [4, 16], dtype: ScalarType.Int64);
        var full = Gpt.Loss(full32.forward(x), y).item<float>();

        // The same weights computing in bf16.
        using var model = new Gpt(Config with { ComputeType = ScalarType.BFloat16 });
        model.LoadWeightsFrom(full32);
        var logits = model.forward(x);
        var loss = Gpt.Loss(logits, y);
        loss.backward();

        Assert.Equal(ScalarType.Float32, logits.dtype);
        Assert.Equal(full, loss.item<float>(), 2);
        // Master weights stay fp32 and every one of them gets a gradient.
        Assert.All(model.parameters(), p =>
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            Assert.Equal(ScalarType.Float32, p.grad!.dtype);
        });
        Assert.True(model.parameters().All(p => p.grad!.abs().sum().item<float>() > 0));
    }

    [Fact]
    public void Bf16_training_follows_the_fp32_loss_curve_within_0_02()
    {
        // Same seed, data and batches; only the compute type differs.
        var data = Enumerable.Range(0, 4000).Select(i => (i * 7 + i / 11 + i % 5) % 16).ToArray();
        var options = new TrainerOptions
        {
            MaxSteps = 150,
            BatchSize = 8,
            LearningRate = 3e-3,
            MinLearningRate = 3e-4,
            WarmupSteps = 10,
            EvalInterval = 50,
            EvalIters = 4,
            LogInterval = 1,
            Seed = 3,
        };
        List<EvalReport> Run(ScalarType? compute)
        {
            manual_seed(3);
            using var model = new Gpt(Config with { Dropout = 0.1, ComputeType = compute });
            using var batches = new TokenBatches(data, Config.BlockSize, CPU);
            var recorder = new EvalRecorder();
            new Trainer(options).Train(model, batches, batches, recorder, CancellationToken.None);
            return recorder.Evals;
        }

        var fp32 = Run(null);
        var bf16 = Run(ScalarType.BFloat16);
        Assert.True(fp32[^1].ValidationLoss < fp32[0].ValidationLoss - 0.5, "the model should learn the pattern");
        foreach (var (a, b) in fp32.Zip(bf16))
            Assert.InRange(Math.Abs(a.ValidationLoss - b.ValidationLoss), 0, 0.02);
    }

    [Fact]
    public void Unknown_precision_names_are_refused()
    {
        Assert.Null(MixedPrecision.Parse("fp32"));
        Assert.Equal(ScalarType.BFloat16, MixedPrecision.Parse("bf16"));
        Assert.Throws<ArgumentException>(() => MixedPrecision.Parse("fp8"));
    }

    private sealed class EvalRecorder : ITrainingObserver
    {
        public List<EvalReport> Evals { get; } = [];
        public void OnStep(StepReport report) { }
        public void OnEval(EvalReport report) => Evals.Add(report);
    }
}
