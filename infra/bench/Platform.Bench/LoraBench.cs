using System.Diagnostics;
using Platform.ML;
using static TorchSharp.torch;

/// <summary>
/// Full fine-tuning against LoRA on nanoGPT's CPU configuration: a base trained on the first half of the train split is
/// fine-tuned on the second half, once with every weight and once with rank-8 adapters on the attention and MLP
/// projections. Each phase runs in its own process, so its peak RSS is its own: trainable parameters, ms per step
/// (median, evaluations excluded), peak RSS and the validation loss at the end.
/// </summary>
static class LoraBench
{
    public static void Run(string? phase, int[] ids, int split, int vocabSize, int threads, int steps, int baseSteps,
        string[] args)
    {
        var basePath = Path.Combine(Path.GetTempPath(), "platform-lora-bench-base.ckpt");
        if (phase is null)
        {
            // One process per phase: the parent only starts them.
            foreach (var p in new[] { "base", "full", "lora" })
            {
                var child = Process.Start(new ProcessStartInfo(Environment.ProcessPath!,
                    [typeof(LoraBench).Assembly.Location, .. args, "--phase", p])
                { UseShellExecute = false })!;
                child.WaitForExit();
                if (child.ExitCode != 0)
                    throw new InvalidOperationException($"phase {p} exited with {child.ExitCode}");
            }
            File.Delete(basePath);
            return;
        }
        set_num_threads(threads);
        var config = new GptConfig(vocabSize, 64, 4, 4, 128, 0.0);
        var half = split / 2;
        using var validation = new TokenBatches(ids[split..], config.BlockSize, CPU);
        TrainerOptions Options(int maxSteps, double lr) => new()
        {
            MaxSteps = maxSteps,
            BatchSize = 12,
            LearningRate = lr,
            MinLearningRate = lr / 10,
            WarmupSteps = Math.Min(100, maxSteps / 10),
            Beta2 = 0.99,
            EvalInterval = maxSteps,
            EvalIters = 20,
            LogInterval = 1,
            Seed = 1337,
        };
        if (phase == "base")
        {
            manual_seed(1337);
            using var model = new Gpt(config);
            using var first = new TokenBatches(ids[..half], config.BlockSize, CPU);
            new Trainer(Options(baseSteps, 1e-3)).Train(model, first, validation, new BenchObserver(int.MaxValue),
                CancellationToken.None);
            using (var file = File.Create(basePath))
                Checkpoint.Save(model, file);
            Console.WriteLine($"\n== LoRA against full fine-tuning (nanoGPT CPU config, {threads} thread(s)): base " +
                $"trained {baseSteps} steps on the first half of the train split, val loss " +
                $"{HeldOutEvaluator.Evaluate(model, validation, 1, maxTokens: 65_536).Loss:F4}; " +
                $"fine-tuning {steps} steps on the second half");
            return;
        }
        manual_seed(1337);
        using var tuned = Checkpoint.Load(basePath);
        tuned.train();
        using var second = new TokenBatches(ids[half..split], config.BlockSize, CPU);
        LoraAdapter? adapter = phase == "lora"
            ? new LoraAdapter(config, new LoraConfig(8, 16, 0.0, [LoraTargets.Attention, LoraTargets.Mlp])) : null;
        using var lora = adapter is null ? null : new LoraGpt(tuned, adapter);
        var task = new GptTraining(tuned, second, validation, lora);
        var trainable = task.Model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        var observer = new BenchObserver(int.MaxValue);
        var outcome = new Trainer(Options(steps, phase == "lora" ? 2e-3 : 3e-4)).Train(task, observer,
            CancellationToken.None);
        var steady = observer.StepMillis.Skip(5).Order().ToList();
        Console.WriteLine($"   {phase,-4}: {trainable,9:N0} trainable parameters " +
            $"({trainable * 100.0 / tuned.parameters().Sum(p => p.numel()):F2}% of the model), " +
                          $"AdamW state {trainable * 8 / 1024.0:N0} KiB, {steady[steady.Count / 2]:F1} ms/step " +
                          $"(median), peak RSS {PeakRssMiB():N0} MiB, " +
                          $"val loss {outcome.FinalValidationLoss:F4} after {steps} steps"
                          + (phase == "lora" ? ", lr 2e-3" : ", lr 3e-4"));
        adapter?.Dispose();
    }

    private static long PeakRssMiB()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:"));
        return long.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
    }
}
