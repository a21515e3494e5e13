using System.Diagnostics;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// nanoGPT's training loop: AdamW (decay on ≥2-D tensors only), warmup + cosine LR, gradient accumulation,
/// clipping, periodic evaluation followed by a resumable checkpoint. One dispose scope per step keeps native
/// memory flat.
/// </summary>
public sealed class Trainer(TrainerOptions options)
{
    /// <param name="resumeFrom">A training checkpoint (see <see cref="TrainingCheckpoint"/>) to continue from, or null
    /// to start.</param>
    public TrainingOutcome Train(Gpt model, TokenBatches train, TokenBatches validation, ITrainingObserver observer,
        CancellationToken cancellationToken, Stream? resumeFrom = null) =>
        Train(new GptTraining(model, train, validation), observer, cancellationToken, resumeFrom);

    /// <param name="resumeFrom">A training checkpoint (see <see cref="TrainingCheckpoint"/>) to continue from, or null
    /// to start.</param>
    public TrainingOutcome Train(ITrainingTask task, ITrainingObserver observer, CancellationToken cancellationToken,
        Stream? resumeFrom = null)
    {
        var model = task.Model;
        var generator = new Generator((ulong)options.Seed);
        using var optimizer = CreateOptimizer(model);
        var schedule = options.Schedule;
        var tokensPerStep = task.TokensPerBatch(options.BatchSize) * Math.Max(1, options.GradientAccumulationSteps);

        var startStep = 0;
        double? best = null;
        if (resumeFrom is not null)
        {
            var header = TrainingCheckpoint.Restore(resumeFrom, model, task.Config, optimizer, generator);
            (startStep, best) = (header.Step, header.BestValidationLoss);
        }
        using var update = new FlatAdamW(optimizer);

        var clock = Stopwatch.StartNew();
        var windowStart = clock.Elapsed;
        var windowSteps = 0;
        double lastLoss = double.NaN;
        double? lastValidation = null;

        for (var step = startStep; ; step++)
        {
            // The resume point was evaluated and saved before the interruption: evaluating it again would
            // consume the generator differently from an uninterrupted run.
            var evaluate = (step % options.EvalInterval == 0 || step == options.MaxSteps
                    || step % options.StepsPerEpoch.GetValueOrDefault(int.MaxValue) == 0)
                && !(resumeFrom is not null && step == startStep);
            if (evaluate)
            {
                var eval = Evaluate(task, generator, step);
                lastValidation = eval.ValidationLoss;
                observer.OnEval(eval);
                var isBest = best is null || eval.ValidationLoss < best;
                if (isBest)
                    best = eval.ValidationLoss;
                var (savedStep, savedBest) = (step, best);
                observer.OnCheckpoint(new CheckpointReport(step, eval.ValidationLoss, isBest,
                    stream => TrainingCheckpoint.Save(stream, model, task.Config, optimizer, generator, savedStep,
                    savedBest)));
            }
            if (step >= options.MaxSteps)
                break;
            cancellationToken.ThrowIfCancellationRequested();

            var lr = schedule.At(step);
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = lr;

            using var scope = NewDisposeScope();
            var (loss, gradNorm) = Step(task, update, generator);
            windowSteps++;

            var isLast = step == options.MaxSteps - 1;
            if (step % options.LogInterval == 0 || isLast)
            {
                // .item() synchronises; reading it only when logging keeps the step free of it.
                lastLoss = loss.item<float>();
                var seconds = (clock.Elapsed - windowStart).TotalSeconds;
                var tokensPerSecond = windowSteps * tokensPerStep / Math.Max(seconds, 1e-9);
                var eta = (options.MaxSteps - step - 1) * tokensPerStep / Math.Max(tokensPerSecond, 1e-9);
                observer.OnStep(new StepReport(step, options.MaxSteps, lastLoss, lr, gradNorm, tokensPerSecond, eta,
                    tokensPerStep));
                windowStart = clock.Elapsed;
                windowSteps = 0;
            }
        }
        return new TrainingOutcome(options.MaxSteps, lastLoss, lastValidation, best, startStep, clock.Elapsed);
    }

    /// <summary>One optimiser step over the micro-batches: the mean loss (caller's scope) and gradient norm.</summary>
    private (Tensor Loss, double GradNorm) Step(ITrainingTask task, FlatAdamW update, Generator generator)
    {
        var accumulation = Math.Max(1, options.GradientAccumulationSteps);
        task.Model.train();
        update.ZeroGrad();
        var microBatches = Enumerable.Range(0, accumulation)
            .Select(_ => task.Loss(false, options.BatchSize, generator));
        var loss = AccumulateGradients(microBatches, accumulation);
        var gradNorm = update.ClipGradNorm(options.GradClip);
        update.Step();
        return (loss, gradNorm);
    }

    /// <summary>
    /// Wall time of training steps as <see cref="Train"/> takes them (batches, forward, backward, clipping, AdamW),
    /// in milliseconds, after untimed ones (at least <paramref name="warmupSteps"/> and <paramref name="warmupTime"/>
    /// of them: a fresh process compiles kernels and code in its first steps): at least <paramref name="minSteps"/>
    /// timed steps and <paramref name="minTime"/> of them, each phase at most <paramref name="maxSteps"/>. The task's
    /// weights change; nothing else is kept (the optimiser state is dropped, and batches have a generator of their
    /// own).
    /// </summary>
    public List<double> TimeSteps(ITrainingTask task, int warmupSteps, TimeSpan warmupTime, int minSteps,
        TimeSpan minTime, int maxSteps, CancellationToken cancellationToken)
    {
        var generator = new Generator((ulong)options.Seed);
        using var optimizer = CreateOptimizer(task.Model);
        foreach (var group in optimizer.ParamGroups)
            group.LearningRate = options.Schedule.At(Math.Min(options.WarmupSteps, options.MaxSteps));
        using var update = new FlatAdamW(optimizer);
        List<double> Run(int steps, TimeSpan time)
        {
            var millis = new List<double>();
            var spent = TimeSpan.Zero;
            while (millis.Count < maxSteps && (millis.Count < steps || spent < time))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                using (NewDisposeScope())
                    // Reading the loss synchronises, so a GPU's queued work is inside the timing.
                    Step(task, update, generator).Loss.item<float>();
                millis.Add(clock.Elapsed.TotalMilliseconds);
                spent += clock.Elapsed;
            }
            return millis;
        }
        Run(warmupSteps, warmupTime);
        return Run(minSteps, minTime);
    }

    /// <summary>
    /// Back-propagates each micro-batch's loss divided by the number of micro-batches, so the summed gradients
    /// equal those of one batch holding them all. Returns the mean loss (a tensor in the caller's scope).
    /// </summary>
    public static Tensor AccumulateGradients(Gpt model, IEnumerable<(Tensor X, Tensor Y)> microBatches, int count) =>
        AccumulateGradients(microBatches.Select(b => Gpt.Loss(model.forward(b.X), b.Y)), count);

    /// <summary>The same for micro-batch losses computed as they are enumerated (each is back-propagated before the
    /// next is drawn).</summary>
    public static Tensor AccumulateGradients(IEnumerable<Tensor> microBatchLosses, int count)
    {
        Tensor? total = null;
        foreach (var microBatchLoss in microBatchLosses)
        {
            var loss = microBatchLoss / count;
            loss.backward();
            total = total is null ? loss.detach() : total + loss.detach();
        }
        return total ?? throw new ArgumentException("At least one micro-batch is needed.", nameof(microBatchLosses));
    }

    /// <summary>AdamW with weight decay on matrices and embeddings only; biases and LayerNorm gains are not
    /// decayed.</summary>
    public AdamW CreateOptimizer(nn.Module model)
    {
        var (decay, noDecay) = WeightDecayGroups(model);
        return optim.AdamW(
        [
            new AdamW.ParamGroup(decay, lr: options.LearningRate, beta1: options.Beta1, beta2: options.Beta2,
                weight_decay: options.WeightDecay),
            new AdamW.ParamGroup(noDecay, lr: options.LearningRate, beta1: options.Beta1, beta2: options.Beta2,
            weight_decay: 0.0),
        ], lr: options.LearningRate, beta1: options.Beta1, beta2: options.Beta2);
    }

    /// <summary>Matrices and embeddings (≥ 2 dimensions) decay; biases and LayerNorm gains (1 dimension) do
    /// not.</summary>
    public static (IReadOnlyList<Parameter> Decay, IReadOnlyList<Parameter> NoDecay) WeightDecayGroups(nn.Module model)
    {
        var parameters = model.parameters().Where(p => p.requires_grad).ToList();
        return (parameters.Where(p => p.dim() >= 2).ToList(), parameters.Where(p => p.dim() < 2).ToList());
    }

    /// <summary>Mean loss over EvalIters random batches of each split, without dropout or gradients.</summary>
    private EvalReport Evaluate(ITrainingTask task, Generator generator, int step)
    {
        task.Model.eval();
        using var _ = no_grad();
        return new EvalReport(step, MeanLoss(task, false, generator), MeanLoss(task, true, generator));
    }

    private double MeanLoss(ITrainingTask task, bool validation, Generator generator)
    {
        double total = 0;
        for (var i = 0; i < options.EvalIters; i++)
        {
            using var scope = NewDisposeScope();
            total += task.Loss(validation, options.BatchSize, generator).item<float>();
        }
        return total / options.EvalIters;
    }
}
