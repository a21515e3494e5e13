using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Security;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Training.Data;
using Platform.ServiceDefaults.Reliability;

namespace Training.Runs;

/// <summary>
/// Trains one run at a time, for as long as it takes. The worker claims a run in PostgreSQL (<see cref="RunClaims"/>)
/// and keeps it with a renewed lease (<see cref="LeaseHeartbeat"/>); no RabbitMQ delivery is held open meanwhile, so a
/// run does not depend on the broker's consumer timeout. StartTraining wakes the worker; an idle worker also looks
/// every PollSeconds, which is how a run whose worker died is found and continued from its latest checkpoint.
/// </summary>
public sealed class TrainingWorker(IServiceScopeFactory scopes, IOptions<TrainingOptions> options,
    IOptions<CostOptions> prices,
    MetricsWriter metrics, RunEstimator estimator, TrainingTelemetry telemetry,
    ILogger<TrainingWorker> logger) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    public string Id { get; } = string.IsNullOrWhiteSpace(options.Value.WorkerId)
        ? $"{Environment.MachineName}:{Environment.ProcessId}"
        : options.Value.WorkerId;

    /// <summary>Look for work now instead of at the next poll.</summary>
    public void Wake()
    {
        try
        { _wake.Release(); }
        catch (SemaphoreFullException) { }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        logger.LogInformation("Training worker {Worker} ready (lease {Lease}, poll {Poll}, crash limit {MaxCrashes})",
            Id, options.Value.Lease, options.Value.Poll, options.Value.MaxCrashes);
        while (!stoppingToken.IsCancellationRequested)
        {
            var found = false;
            try
            {
                found = await TrainNextAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Looking for a run to train failed, will retry: {Message}", ex.Message);
            }
            if (found)
                continue;
            try
            {
                await _wake.WaitAsync(options.Value.Poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task<bool> TrainNextAsync(CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
        var (found, claim) = await RunClaims.ClaimNextAsync(db, Id, options.Value, stoppingToken);
        if (claim is not null)
            await TrainAsync(scope.ServiceProvider, db, claim, stoppingToken);
        return found;
    }

    /// <summary>
    /// Writes what the trainer reported and reads the run back once training stopped: a cancel, a deletion or another
    /// worker's claim may have come meanwhile.
    /// </summary>
    private async Task SettleAsync(TrainingDbContext db, Run run)
    {
        await UntilDatabaseAnswersAsync(run.Id, () => metrics.FlushAsync(CancellationToken.None));
        await UntilDatabaseAnswersAsync(run.Id, () => db.Entry(run).ReloadAsync(CancellationToken.None));
    }

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    /// <summary>
    /// Retries what a restarting database refuses (doubling from 1 s to 30 s, for up to 10 minutes); the run's lease is
    /// renewed meanwhile, so the run stays this worker's. Other errors, and a database away longer, go to the caller.
    /// </summary>
    private async Task UntilDatabaseAnswersAsync(Guid runId, Func<Task> action)
    {
        var giveUp = DateTimeOffset.UtcNow + TimeSpan.FromMinutes(10);
        for (var delay = TimeSpan.FromSeconds(1); ; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2,
            TimeSpan.TicksPerSecond * 30)))
        {
            try
            {
                await action();
                return;
            }
            catch (Exception ex) when (DatabaseExceptionHandler.IsUnavailable(ex) && DateTimeOffset.UtcNow < giveUp)
            {
                logger.LogWarning("run {RunId}: the database is not answering ({Error}); trying again in {Delay}",
                    runId, ex.GetBaseException().Message, delay);
                await Task.Delay(delay);
            }
        }
    }

    private RunCost AttemptCost(RunEstimate estimate, int steps, TimeSpan wall, TimeSpan cpu)
    {
        var gpuSeconds = TorchSharp.torch.cuda.is_available() ? wall.TotalSeconds : 0;
        var tokens = estimate.TokensPerStep * steps;
        return new RunCost
        {
            WallSeconds = Math.Round(wall.TotalSeconds, 3),
            CpuSeconds = Math.Round(cpu.TotalSeconds, 3),
            GpuSeconds = Math.Round(gpuSeconds, 3),
            Tokens = tokens,
            Flops = 6.0 * estimate.Parameters * tokens,
            Price = Math.Round((decimal)cpu.TotalHours * prices.Value.PricePerCoreHour + (decimal)(gpuSeconds / 3600)
            * prices.Value.PricePerGpuHour, 6),
            Currency = prices.Value.Currency,
        };
    }

    private async Task TrainAsync(IServiceProvider services, TrainingDbContext db, RunClaim claim,
        CancellationToken stoppingToken)
    {
        var run = claim.Run;
        var job = services.GetRequiredService<TrainingJob>();
        var deletion = services.GetRequiredService<RunDeletion>();
        if (run.DeleteRequested)
        {
            await deletion.DeleteStoppedAsync(run, CancellationToken.None);
            return;
        }
        if (run.CancelRequested)
        {
            run.MarkCancelled();
            await db.SaveChangesAsync(CancellationToken.None);
            return;
        }
        var known = await db.Datasets.FindAsync([run.DatasetId], stoppingToken);
        // The dataset as this run trains on it: its own tokens, or its encoding with the run's tokenizer.
        var dataset = known?.Status == DatasetStatus.Tokenized
            ? await RunScheduler.TrainingDataAsync(db, run, known, stoppingToken) : null;
        if (dataset is null)
        {
            await RunScheduler.ScheduleAsync(db, run, known, CancellationToken.None);
            await db.SaveChangesAsync(CancellationToken.None);
            return;
        }

        // Checked again with the real vocabulary: a run that cannot fit fails with the estimate instead of the OOM
        // killer ending the worker.
        var estimate = estimator.Estimate(run.Spec, dataset.VocabSize);
        if (!estimate.Fits)
        {
            run.Fail("Not started: " + estimate.Explanation);
            db.PublishViaOutbox(new TrainingFailed(run.Id, run.FailureReason!, run.UpdatedAt));
            await db.SaveChangesAsync(CancellationToken.None);
            logger.LogWarning("run {RunId} refused: needs {Need:N0} MiB, the worker has {Limit:N0} MiB", run.Id,
                estimate.Memory.PeakBytes >> 20, estimate.Memory.LimitBytes >> 20);
            return;
        }

        // The training continues the trace of whoever queued the run, so one upload is one trace end to end.
        using var activity = ActivityContext.TryParse(run.TraceParent, null, out var parent)
            ? TrainingTelemetry.Source.StartActivity("train run", ActivityKind.Internal, parent)
            : TrainingTelemetry.Source.StartActivity("train run");
        activity?.SetTag("run.id", run.Id);

        // A run taken over from a dead worker, or resumed, continues from its latest checkpoint.
        var resumeStep = job.ResumableStep(run);
        run.Start(resumeStep ?? 0);
        try
        {
            await db.SaveChangesAsync(stoppingToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            logger.LogInformation("run {RunId}: cancelled (or taken by another worker) after this worker claimed it; " +
                "not started", run.Id);
            return;
        }
        logger.LogInformation("run {RunId} claimed by {Worker} (lease {Token}){From}", run.Id, Id, claim.LeaseToken,
            resumeStep is { } s ? $", continuing from its checkpoint at step {s}" : "");
        if (resumeStep is { } step)
            metrics.Record(run.Id, "resumed_at_step", step, step);

        await using var heartbeat = new LeaseHeartbeat(scopes, claim, options.Value.Lease, logger);
        var cancelled = metrics.Track(run.Id, claim.LeaseToken);
        telemetry.Started();
        var outcome = "failed";
        var startStep = run.Step;
        var stepsDone = (int?)null;
        TrainingCompleted? completed = null;
        var wall = Stopwatch.StartNew();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancelled, heartbeat.Lost, stoppingToken);
        try
        {
            // Inside the lease and the run's cancellation: "auto" may time both precisions first.
            var precisions = services.GetRequiredService<PrecisionChoice>();
            var (precision, reason) = await precisions.DecideAsync(run, dataset, linked.Token);
            run.UsePrecision(precision, reason);
            await db.SaveChangesAsync(linked.Token);
            logger.LogInformation("run {RunId} trains in {Precision}: {Reason}", run.Id, precision, reason);
            // A trial of both precisions is done once per shape and machine, not by this run: its cost starts here.
            wall.Restart();
            cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var trained = await job.RunAsync(run, dataset, heartbeat.Confirm, linked.Token);
            stepsDone = trained.Outcome.Steps - trained.Outcome.StartStep;
            // The checkpoint is on disk: a database that is away now delays the bookkeeping, it does not fail the run.
            await SettleAsync(db, run);
            if (run.LeaseToken != claim.LeaseToken)
            {
                logger.LogWarning(
                    "run {RunId}: finished training without its lease (another worker holds it); result " +
                    "discarded", run.Id);
                return;
            }
            if (run.DeleteRequested)
            {
                await deletion.DeleteStoppedAsync(run, CancellationToken.None);
                return;
            }
            run.FinishTraining(trained.Parameters, trained.CheckpointKey, trained.CheckpointSha256,
                trained.Outcome.Steps);
            outcome = "trained";
            // A run taken over at its last step trains no step: its losses are the ones already recorded.
            var finalLoss = Finite(trained.Outcome.FinalTrainLoss) ?? run.LatestTrainLoss ?? 0;
            var finalValidation = Finite(trained.Outcome.FinalValidationLoss) ?? run.LatestValidationLoss;
            completed = new TrainingCompleted(run.Id, run.Name, trained.CheckpointKey, trained.CheckpointSha256,
                dataset.TokenizerKey!, dataset.ValidationTokensKey!, dataset.ValidationBytes ?? 0,
                dataset.ValidationTokens ?? 0,
                trained.Outcome.Steps, finalLoss, finalValidation, run.UpdatedAt, run.Spec.Model.Architecture,
                dataset.SourceTokenizerKey)
            {
                DatasetId = run.DatasetId,
                Owner = run.OwnerOf(),
                BaseModel = run.BaseModel,
                FineTuneMethod = run.BaseModel is null ? null : run.Spec.FineTune?.Method ?? FineTuneMethods.Full,
                RegisteredValidationLoss = run.Spec.Training.Registration == Registrations.Best ? run.BestValidationLoss
                : run.LatestValidationLoss,
                Lineage = run.Lineage ?? [run.DatasetId],
            };
            logger.LogInformation("run {RunId} trained in {Elapsed}: final loss {Loss:F4}, validation {Validation:F4}",
                run.Id, trained.Outcome.Elapsed, finalLoss, finalValidation);
        }
        catch (OperationCanceledException) when (heartbeat.Lost.IsCancellationRequested)
        {
            // Another worker holds the run now: this one writes nothing more.
            outcome = "lease-lost";
            return;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested
            && !cancelled.IsCancellationRequested)
        {
            // Shutting down: hand the run back so a worker continues it from its latest checkpoint, no crash counted.
            await SettleAsync(db, run);
            if (run.LeaseToken == claim.LeaseToken && run.State == RunState.Training)
                run.Requeue();
            outcome = "handed-back";
            logger.LogInformation("run {RunId} handed back at step {Step}: this worker is stopping", run.Id, run.Step);
        }
        catch (OperationCanceledException) when (cancelled.IsCancellationRequested)
        {
            await SettleAsync(db, run);
            if (run.DeleteRequested)
            {
                await deletion.DeleteStoppedAsync(run, CancellationToken.None);
                return;
            }
            run.MarkCancelled();
            outcome = "cancelled";
            logger.LogInformation("run {RunId} cancelled at step {Step}", run.Id, run.Step);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "run {RunId} failed", run.Id);
            await SettleAsync(db, run);
            if (run.LeaseToken != claim.LeaseToken)
                return;
            if (run.DeleteRequested)
            {
                await deletion.DeleteStoppedAsync(run, CancellationToken.None);
                return;
            }
            run.Fail($"Training failed: {PublicReason.Of(ex.GetBaseException())}");
            db.PublishViaOutbox(new TrainingFailed(run.Id, run.FailureReason!, run.UpdatedAt));
        }
        finally
        {
            metrics.Untrack(run.Id);
            telemetry.Ended(outcome);
        }
        if (!run.IsDeleted && run.LeaseToken == claim.LeaseToken)
            run.AddCost(AttemptCost(estimate, stepsDone ?? Math.Max(0, run.Step - startStep), wall.Elapsed,
                Process.GetCurrentProcess().TotalProcessorTime - cpuBefore));
        // Announced with the cost of every attempt, this one included: the registry records it on the version.
        if (completed is not null)
            db.PublishViaOutbox(completed with { Cost = run.Cost });
        try
        {
            await UntilDatabaseAnswersAsync(run.Id, () => db.SaveChangesAsync(CancellationToken.None));
        }
        catch (DbUpdateConcurrencyException)
        {
            logger.LogWarning("run {RunId}: its lease was taken while this worker finished; nothing written", run.Id);
        }
    }
}
