using MassTransit;
using Platform.Contracts;
using Platform.ML;
using Platform.ServiceDefaults.Reliability;
using Platform.Storage;
using Training.Data;

namespace Training.Runs;

/// <summary>
/// Turns trainer reports into metric series, the run's live progress, a log line, a TrainingProgressed event
/// at most once per second, and the run's latest and best checkpoints. It runs on the training thread: the
/// database is written by <see cref="MetricsWriter"/> in the background.
/// </summary>
public sealed class RunProgressObserver(Run run, MetricsWriter metrics, IBus bus, ArtifactStore store,
    FaultInjector faults,
    TrainingTelemetry telemetry, ILogger logger, Func<bool> holdsLease)
    : ITrainingObserver
{
    private DateTimeOffset _lastPublished = DateTimeOffset.MinValue;
    private List<MetricSample> _unpublished = [];
    private int? _lastReportedStep;
    private readonly System.Diagnostics.Stopwatch _sinceLastStep = System.Diagnostics.Stopwatch.StartNew();

    public void OnStep(StepReport r)
    {
        faults.At("training-step", run.Name);
        // Reports come every LogInterval steps: the time since the last one is spread over the steps between them.
        var steps = Math.Max(1, r.Step - (_lastReportedStep ?? r.Step - 1));
        telemetry.Steps(steps, _sinceLastStep.Elapsed, (long)r.TokensPerStep, r.TokensPerSecond);
        _lastReportedStep = r.Step;
        _sinceLastStep.Restart();
        metrics.Record(run.Id, "loss", r.Step, r.Loss);
        metrics.Record(run.Id, "lr", r.Step, r.LearningRate);
        _unpublished.Add(new MetricSample("loss", r.Step, r.Loss));
        _unpublished.Add(new MetricSample("lr", r.Step, r.LearningRate));
        metrics.Record(run.Id, "grad_norm", r.Step, r.GradNorm);
        metrics.Record(run.Id, "tokens_per_sec", r.Step, r.TokensPerSecond);
        metrics.UpdateProgress(run.Id, s =>
            s with
            {
                Step = r.Step + 1,
                TrainLoss = r.Loss,
                TokensPerSecond = r.TokensPerSecond,
                EtaSeconds = r.EtaSeconds
            });
        var epoch = run.EpochOf(r.Step);
        if (epoch is not null)
            logger.LogInformation("run {RunId} epoch {Epoch}/{Epochs} step {Step}/{MaxSteps} loss {Loss:F4} " +
                "lr {Lr:E2} grad-norm {GradNorm:F2} {TokensPerSecond:N0} tokens/s ETA {Eta}",
                run.Id, epoch, run.Spec.Training.Epochs, r.Step, r.MaxSteps, r.Loss, r.LearningRate, r.GradNorm,
                r.TokensPerSecond, TimeSpan.FromSeconds(Math.Round(r.EtaSeconds)));
        else
            logger.LogInformation("run {RunId} step {Step}/{MaxSteps} loss {Loss:F4} lr {Lr:E2} " +
                "grad-norm {GradNorm:F2} {TokensPerSecond:N0} tokens/s ETA {Eta}",
                run.Id, r.Step, r.MaxSteps, r.Loss, r.LearningRate, r.GradNorm, r.TokensPerSecond,
                TimeSpan.FromSeconds(Math.Round(r.EtaSeconds)));

        var now = DateTimeOffset.UtcNow;
        if (now - _lastPublished >= TimeSpan.FromSeconds(1) || r.Step + 1 >= r.MaxSteps)
        {
            _lastPublished = now;
            // Live views get every point since the last event; a lost event loses only its share of a live chart (the
            // series are stored).
            var points = _unpublished;
            _unpublished = [];
            bus.Publish(new TrainingProgressed(run.Id, r.Step, r.MaxSteps, r.Loss, r.TokensPerSecond, r.EtaSeconds,
                now)
            { Points = points, Epoch = epoch, Epochs = epoch is null ? null : run.Spec.Training.Epochs })
                .ContinueWith(t =>
                logger.LogDebug("Progress event not published: {Message}", t.Exception?.GetBaseException().Message),
                    TaskContinuationOptions.OnlyOnFaulted);
        }
    }

    public void OnEval(EvalReport r)
    {
        metrics.Record(run.Id, "train_loss", r.Step, r.TrainLoss);
        metrics.Record(run.Id, "val_loss", r.Step, r.ValidationLoss);
        _unpublished.Add(new MetricSample("train_loss", r.Step, r.TrainLoss));
        _unpublished.Add(new MetricSample("val_loss", r.Step, r.ValidationLoss));
        metrics.UpdateProgress(run.Id, s => s with { Step = r.Step, ValidationLoss = r.ValidationLoss });
        logger.LogInformation("run {RunId} eval at step {Step}: train loss {Train:F4}, validation loss {Validation:F4}",
            run.Id, r.Step, r.TrainLoss, r.ValidationLoss);
        // The evaluation after an epoch's last step closes the epoch: its number is a series of its own.
        if (run.StepsPerEpoch is { } perEpoch && r.Step > 0 && r.Step % perEpoch == 0)
        {
            var epoch = r.Step / perEpoch;
            metrics.Record(run.Id, "epoch", r.Step, epoch);
            _unpublished.Add(new MetricSample("epoch", r.Step, epoch));
            logger.LogInformation("run {RunId} epoch {Epoch}/{Epochs} done at step {Step}: train loss {Train:F4}, " +
                "validation loss {Validation:F4}", run.Id, epoch, run.Spec.Training.Epochs, r.Step, r.TrainLoss,
                r.ValidationLoss);
        }
    }

    /// <summary>
    /// Writes the resumable state as the latest checkpoint, and as the best one when validation improved; nothing while
    /// the lease is not confirmed (another worker may hold the run and write its own).
    /// </summary>
    public void OnCheckpoint(CheckpointReport r)
    {
        if (!holdsLease())
        {
            logger.LogWarning("run {RunId}: checkpoint at step {Step} not written: this worker's lease is not " +
                              "confirmed (lost to another worker, or the database does not answer)", run.Id, r.Step);
            return;
        }
        store.WriteAsync(run.LatestCheckpointKey, s =>
            { r.Write(s); return Task.CompletedTask; }).GetAwaiter().GetResult();
        var sha = store.Sha256Async(run.LatestCheckpointKey).GetAwaiter().GetResult();
        if (r.IsBest)
            store.WriteAsync(run.BestCheckpointKey, async s =>
            {
                await using var latest = store.OpenRead(run.LatestCheckpointKey);
                await latest.CopyToAsync(s);
            }).GetAwaiter().GetResult();
        metrics.UpdateProgress(run.Id, s => s with
        {
            LatestCheckpoint = (r.Step, sha),
            BestCheckpoint = r.IsBest ? (r.Step, sha) : s.BestCheckpoint,
        });
        logger.LogInformation("run {RunId} checkpoint at step {Step} (sha256 {Sha}){Best}", run.Id, r.Step, sha[..12],
            r.IsBest ? ", best so far" : "");
    }
}
