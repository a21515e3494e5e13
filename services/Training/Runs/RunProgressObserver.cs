using MassTransit;
using Platform.Contracts;
using Platform.ML;

namespace Training.Runs;

/// <summary>
/// Turns trainer reports into metric series, the run's live progress, a log line, and a TrainingProgressed
/// event at most once per second. Everything here is non-blocking: it runs on the training thread.
/// </summary>
public sealed class RunProgressObserver(Guid runId, MetricsWriter metrics, IBus bus, ILogger logger) : ITrainingObserver
{
    private DateTimeOffset _lastPublished = DateTimeOffset.MinValue;

    public void OnStep(StepReport r)
    {
        metrics.Record(runId, "loss", r.Step, r.Loss);
        metrics.Record(runId, "lr", r.Step, r.LearningRate);
        metrics.Record(runId, "grad_norm", r.Step, r.GradNorm);
        metrics.Record(runId, "tokens_per_sec", r.Step, r.TokensPerSecond);
        metrics.UpdateProgress(runId, old => new RunProgressSnapshot(r.Step + 1, r.Loss, old?.ValidationLoss, r.TokensPerSecond, r.EtaSeconds));
        logger.LogInformation("run {RunId} step {Step}/{MaxSteps} loss {Loss:F4} lr {Lr:E2} grad-norm {GradNorm:F2} {TokensPerSecond:N0} tokens/s ETA {Eta}",
            runId, r.Step, r.MaxSteps, r.Loss, r.LearningRate, r.GradNorm, r.TokensPerSecond, TimeSpan.FromSeconds(Math.Round(r.EtaSeconds)));

        var now = DateTimeOffset.UtcNow;
        if (now - _lastPublished >= TimeSpan.FromSeconds(1))
        {
            _lastPublished = now;
            bus.Publish(new TrainingProgressed(runId, r.Step, r.MaxSteps, r.Loss, r.TokensPerSecond, r.EtaSeconds, now))
                .ContinueWith(t => logger.LogDebug("Progress event not published: {Message}", t.Exception?.GetBaseException().Message),
                    TaskContinuationOptions.OnlyOnFaulted);
        }
    }

    public void OnEval(EvalReport r)
    {
        metrics.Record(runId, "train_loss", r.Step, r.TrainLoss);
        metrics.Record(runId, "val_loss", r.Step, r.ValidationLoss);
        metrics.UpdateProgress(runId, old => (old ?? new RunProgressSnapshot(r.Step, null, null, null, null)) with { ValidationLoss = r.ValidationLoss });
        logger.LogInformation("run {RunId} eval at step {Step}: train loss {Train:F4}, validation loss {Validation:F4}", runId, r.Step, r.TrainLoss, r.ValidationLoss);
    }
}
