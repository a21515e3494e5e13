using System.Security.Cryptography;
using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class LoraTests
{
    private static readonly GptConfig Small = new(VocabSize: 65, BlockSize: 32, NLayer: 2, NHead: 2, NEmbd: 64);
    private static readonly LoraConfig Both = new(Rank: 4, Alpha: 8, Dropout: 0.0,
        Targets: [LoraTargets.Attention, LoraTargets.Mlp]);

    /// <summary>The demo corpus, char-encoded over its own alphabet (65 characters).</summary>
    private static readonly Lazy<int[]> Shakespeare = new(() =>
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "infra",
            "demo", "tinyshakespeare.txt"));
        var alphabet = text.Distinct().Order().Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        return text.Select(c => alphabet[c]).ToArray();
    });

    private sealed class Quiet : ITrainingObserver
    {
        public List<EvalReport> Evals { get; } = [];
        public void OnStep(StepReport report) { }
        public void OnEval(EvalReport report) => Evals.Add(report);
    }

    private static TrainerOptions Options(int steps, double learningRate = 3e-3) => new()
    {
        MaxSteps = steps,
        BatchSize = 16,
        LearningRate = learningRate,
        MinLearningRate = learningRate / 10,
        WarmupSteps = 10,
        EvalInterval = steps,
        EvalIters = 10,
        LogInterval = 1000,
        Seed = 7,
    };

    private static byte[] Sha256Of(Gpt model)
    {
        using var stream = new MemoryStream();
        Checkpoint.Save(model, stream);
        return SHA256.HashData(stream.ToArray());
    }

    [Fact]
    public void A_fresh_adapter_changes_nothing_and_only_its_parameters_train()
    {
        manual_seed(11);
        using var model = new Gpt(Small);
        using var adapter = new LoraAdapter(Small, Both);
        // Per block: A and B for c_attn (64→192), attn.c_proj (64→64), c_fc (64→256), mlp.c_proj (256→64), rank 4.
        Assert.Equal(2 * 4 * ((64 + 192) + (64 + 64) + (64 + 256) + (256 + 64)), adapter.Parameters);
        using var x = tensor(Shakespeare.Value[..32].Select(t => (long)t).ToArray()).unsqueeze(0);
        model.eval();
        using (no_grad())
            Assert.True(model.Forward(x, null).allclose(model.Forward(x, adapter), rtol: 0, atol: 0));

        var before = Sha256Of(model);
        using var lora = new LoraGpt(model, adapter);
        using var train = new TokenBatches(Shakespeare.Value[..20_000], Small.BlockSize, CPU);
        using var validation = new TokenBatches(Shakespeare.Value[20_000..25_000], Small.BlockSize, CPU);
        var trainer = new Trainer(Options(20));
        using (var optimizer = trainer.CreateOptimizer(lora))
            Assert.Equal(adapter.Parameters, optimizer.parameters().Sum(p => p.numel()));
        trainer.Train(new GptTraining(model, train, validation, lora), new Quiet(), CancellationToken.None);

        Assert.Equal(before, Sha256Of(model));
        model.eval();
        using (no_grad())
            Assert.False(model.Forward(x, null).allclose(model.Forward(x, adapter), rtol: 0, atol: 1e-4),
                "the adapter did not learn");
    }

    [Fact]
    public void Merged_and_unmerged_adapters_give_the_same_logits()
    {
        manual_seed(12);
        using var model = new Gpt(Small);
        using var adapter = new LoraAdapter(Small, Both with { Rank = 3, Alpha = 5 });
        using (no_grad())
            foreach (var p in adapter.parameters())
                p.normal_(0, 0.05);  // B is zero when fresh: make both factors non-zero so the merge has work to do
        model.eval();
        adapter.eval();
        using var x = tensor(Shakespeare.Value[100..132].Select(t => (long)t).ToArray()).unsqueeze(0);
        using var _ = no_grad();
        var unmerged = model.Forward(x, adapter);
        Assert.False(unmerged.allclose(model.Forward(x, null), rtol: 0, atol: 1e-3));
        adapter.MergeInto(model);
        Assert.True(unmerged.allclose(model.Forward(x, null), rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void Adapter_files_hold_the_adapter_and_its_base_reference_and_load_back()
    {
        manual_seed(13);
        using var adapter = new LoraAdapter(Small, Both);
        using (no_grad())
            foreach (var p in adapter.parameters())
                p.normal_(0, 0.05);
        var header = new LoraHeader(Both, Small, "runs/base/checkpoint.bin", new string('a', 64), "base/versions/1");
        var path = Path.GetTempFileName();
        try
        {
            using (var file = File.Create(path))
                LoraCheckpoint.Save(adapter, header, file);
            // Adapter weights only: far smaller than the base's 100k parameters at 4 bytes each.
            Assert.InRange(new FileInfo(path).Length, adapter.Parameters * 4, adapter.Parameters * 4 + 16_384);
            var (read, loaded) = LoraCheckpoint.Load(path);
            using (loaded)
            {
                Assert.Equal(header, read);
                foreach (var (a, b) in adapter.parameters().Zip(loaded.parameters()))
                    Assert.True(a.allclose(b, rtol: 0, atol: 0));
            }
            Assert.Null(LoraCheckpoint.ReadHeader(WriteFullCheckpoint()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string WriteFullCheckpoint()
    {
        var path = Path.GetTempFileName();
        using var model = new Gpt(Small);
        using var file = File.Create(path);
        Checkpoint.Save(model, file);
        return path;
    }

    [Fact]
    public void Fine_tuning_on_a_second_corpus_beats_both_the_base_and_training_from_scratch_at_equal_steps()
    {
        // First corpus: the first 400k characters; second: the last 200k (other plays, the same alphabet).
        var ids = Shakespeare.Value;
        using var firstTrain = new TokenBatches(ids[..400_000], Small.BlockSize, CPU);
        using var firstValidation = new TokenBatches(ids[400_000..420_000], Small.BlockSize, CPU);
        using var secondTrain = new TokenBatches(ids[^200_000..^20_000], Small.BlockSize, CPU);
        using var secondValidation = new TokenBatches(ids[^20_000..], Small.BlockSize, CPU);
        double ValidationLoss(Gpt model) =>
            HeldOutEvaluator.Evaluate(model, secondValidation, 1, maxTokens: 20_000).Loss;

        manual_seed(21);
        using var baseModel = new Gpt(Small);
        new Trainer(Options(300)).Train(baseModel, firstTrain, firstValidation, new Quiet(), CancellationToken.None);
        var baseLoss = ValidationLoss(baseModel);

        const int steps = 150;
        manual_seed(22);
        using var scratch = new Gpt(Small);
        new Trainer(Options(steps)).Train(scratch, secondTrain, secondValidation, new Quiet(), CancellationToken.None);
        var scratchLoss = ValidationLoss(scratch);

        using var full = new Gpt(Small);
        full.LoadWeightsFrom(baseModel);
        new Trainer(Options(steps, 1e-3)).Train(full, secondTrain, secondValidation, new Quiet(),
            CancellationToken.None);
        var fullLoss = ValidationLoss(full);

        using var frozen = new Gpt(Small);
        frozen.LoadWeightsFrom(baseModel);
        using var adapter = new LoraAdapter(Small, Both with { Rank = 8, Alpha = 16 });
        using var lora = new LoraGpt(frozen, adapter);
        new Trainer(Options(steps, 3e-3)).Train(new GptTraining(frozen, secondTrain, secondValidation, lora),
            new Quiet(), CancellationToken.None);
        frozen.eval();
        var loraLoss = ValidationLoss(frozen);

        Assert.True(fullLoss < baseLoss && fullLoss < scratchLoss,
            $"full fine-tune {fullLoss:F4}, base {baseLoss:F4}, scratch {scratchLoss:F4}");
        Assert.True(loraLoss < baseLoss && loraLoss < scratchLoss,
            $"LoRA fine-tune {loraLoss:F4}, base {baseLoss:F4}, scratch {scratchLoss:F4}");
    }

    [Fact]
    public void A_smaller_block_starts_from_the_first_rows_of_the_base_position_table()
    {
        manual_seed(23);
        using var source = new Gpt(Small);
        using var target = new Gpt(Small with { BlockSize = 16, Dropout = 0.1 });
        target.LoadWeightsFrom(source);
        source.eval();
        target.eval();
        using var x = tensor(Shakespeare.Value[..16].Select(t => (long)t).ToArray()).unsqueeze(0);
        using var _ = no_grad();
        Assert.True(source.forward(x).allclose(target.forward(x), rtol: 0, atol: 1e-6));
        using var wider = new Gpt(Small with { NEmbd = 32 });
        Assert.Throws<ArgumentException>(() => wider.LoadWeightsFrom(source));
    }
}
