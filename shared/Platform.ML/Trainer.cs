using System.Diagnostics;
using TorchSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>nanoGPT's training loop: AdamW (decay on ≥2-D tensors only), warmup + cosine LR, clipping, periodic eval.</summary>
public sealed class Trainer(TrainerOptions options)
{
    public TrainingOutcome Train(Gpt model, TokenBatches train, TokenBatches validation, ITrainingObserver observer, CancellationToken cancellationToken)
    {
        var generator = new Generator((ulong)options.Seed);
        using var optimizer = CreateOptimizer(model);
        var schedule = options.Schedule;
        var tokensPerStep = (double)options.BatchSize * train.BlockSize;
        var clock = Stopwatch.StartNew();
        var windowStart = clock.Elapsed;
        var windowSteps = 0;
        double lastLoss = double.NaN;
        double? lastValidation = null;

        for (var step = 0; ; step++)
        {
            if (step % options.EvalInterval == 0 || step == options.MaxSteps)
            {
                var eval = Evaluate(model, train, validation, generator, step);
                lastValidation = eval.ValidationLoss;
                observer.OnEval(eval);
            }
            if (step == options.MaxSteps)
                break;
            cancellationToken.ThrowIfCancellationRequested();

            var lr = schedule.At(step);
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = lr;

            using var scope = NewDisposeScope();
            model.train();
            var (x, y) = train.Sample(options.BatchSize, generator);
            var loss = Gpt.Loss(model.forward(x), y);
            optimizer.zero_grad();
            loss.backward();
            var gradNorm = nn.utils.clip_grad_norm_(model.parameters(), options.GradClip);
            optimizer.step();
            windowSteps++;

            var isLast = step == options.MaxSteps - 1;
            if (step % options.LogInterval == 0 || isLast)
            {
                // .item() synchronises; reading it only when logging keeps the step free of it.
                lastLoss = loss.item<float>();
                var seconds = (clock.Elapsed - windowStart).TotalSeconds;
                var tokensPerSecond = windowSteps * tokensPerStep / Math.Max(seconds, 1e-9);
                var eta = (options.MaxSteps - step - 1) * tokensPerStep / Math.Max(tokensPerSecond, 1e-9);
                observer.OnStep(new StepReport(step, options.MaxSteps, lastLoss, lr, gradNorm, tokensPerSecond, eta));
                windowStart = clock.Elapsed;
                windowSteps = 0;
            }
        }
        return new TrainingOutcome(options.MaxSteps, lastLoss, lastValidation, clock.Elapsed);
    }

    /// <summary>AdamW with weight decay on matrices and embeddings only; biases and LayerNorm gains are not decayed.</summary>
    public AdamW CreateOptimizer(Gpt model)
    {
        var (decay, noDecay) = WeightDecayGroups(model);
        return optim.AdamW(
        [
            new AdamW.ParamGroup(decay, lr: options.LearningRate, beta1: options.Beta1, beta2: options.Beta2, weight_decay: options.WeightDecay),
            new AdamW.ParamGroup(noDecay, lr: options.LearningRate, beta1: options.Beta1, beta2: options.Beta2, weight_decay: 0.0),
        ], lr: options.LearningRate, beta1: options.Beta1, beta2: options.Beta2);
    }

    /// <summary>Matrices and embeddings (≥ 2 dimensions) decay; biases and LayerNorm gains (1 dimension) do not.</summary>
    public static (IReadOnlyList<Parameter> Decay, IReadOnlyList<Parameter> NoDecay) WeightDecayGroups(Gpt model)
    {
        var parameters = model.parameters().Where(p => p.requires_grad).ToList();
        return (parameters.Where(p => p.dim() >= 2).ToList(), parameters.Where(p => p.dim() < 2).ToList());
    }

    /// <summary>Mean loss over EvalIters random batches of each split, without dropout or gradients.</summary>
    private EvalReport Evaluate(Gpt model, TokenBatches train, TokenBatches validation, Generator generator, int step)
    {
        model.eval();
        using var _ = no_grad();
        return new EvalReport(step, MeanLoss(model, train, generator), MeanLoss(model, validation, generator));
    }

    private double MeanLoss(Gpt model, TokenBatches batches, Generator generator)
    {
        double total = 0;
        for (var i = 0; i < options.EvalIters; i++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = batches.Sample(options.BatchSize, generator);
            total += Gpt.Loss(model.forward(x), y).item<float>();
        }
        return total / options.EvalIters;
    }
}
