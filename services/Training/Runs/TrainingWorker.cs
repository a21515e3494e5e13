using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Security;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Training.Data;
using Platform.ServiceDefaults.Reliability;
using Platform.Storage;

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

    /// <summary>How an attempt at training ended; <see cref="ConcludeAsync"/> decides the run's state.</summary>
    private enum Outcome { Trained, Cancelled, HandedBack, LeaseLost, Failed }

    /// <summary>A claimed run ready to train: its data, and its estimate checked with the real vocabulary.</summary>
    private sealed record Prepared(KnownDataset Dataset, RunEstimate Estimate);

    /// <summary>What one attempt did: its outcome, the model or the error, and what it cost.</summary>
    private sealed record Attempt(Outcome Outcome, int StartStep, int? StepsDone, TimeSpan Wall, TimeSpan Cpu)
    {
        public TrainedModel? Trained { get; init; }
        public Exception? Error { get; init; }
        public string Label => Outcome switch
        {
            Outcome.Trained => "trained",
            Outcome.Cancelled => "cancelled",
            Outcome.HandedBack => "handed-back",
            Outcome.LeaseLost => "lease-lost",
            _ => "failed",
        };
    }

    private async Task TrainAsync(IServiceProvider services, TrainingDbContext db, RunClaim claim,
        CancellationToken stoppingToken)
    {
        var prepared = await PrepareAsync(services, db, claim, stoppingToken);
        if (prepared is null)
            return;
        // The training continues the trace of whoever queued the run, so one upload is one trace end to end.
        using var activity = ActivityContext.TryParse(claim.Run.TraceParent, null, out var parent)
            ? TrainingTelemetry.Source.StartActivity("train run", ActivityKind.Internal, parent)
            : TrainingTelemetry.Source.StartActivity("train run");
        activity?.SetTag("run.id", claim.Run.Id);
        if (!await StartAsync(services, db, claim, stoppingToken))
            return;
        try
        {
            var attempt = await ExecuteAsync(services, db, claim, prepared, stoppingToken);
            await ConcludeAsync(services, db, claim, prepared, attempt);
        }
        finally
        {
            // Only now: until the run is settled, progress is written only while it still carries this lease.
            metrics.Untrack(claim.Run.Id);
        }
    }

    /// <summary>
    /// Settles what needs no training (a run deleted or cancelled before it started, one whose data is not ready, one
    /// that cannot fit); null then, else the run's data and estimate.
    /// </summary>
    private async Task<Prepared?> PrepareAsync(IServiceProvider services, TrainingDbContext db, RunClaim claim,
        CancellationToken stoppingToken)
    {
        var run = claim.Run;
        if (run.DeleteRequested)
        {
            await services.GetRequiredService<RunDeletion>().DeleteStoppedAsync(run, CancellationToken.None);
            return null;
        }
        if (run.CancelRequested)
        {
            run.MarkCancelled();
            await db.SaveChangesAsync(CancellationToken.None);
            return null;
        }
        var known = await db.Datasets.FindAsync([run.DatasetId], stoppingToken);
        // The dataset as this run trains on it: its own tokens, or its encoding with the run's tokenizer.
        var dataset = known?.Status == DatasetStatus.Tokenized
            ? await RunScheduler.TrainingDataAsync(db, run, known, stoppingToken) : null;
        if (dataset is null)
        {
            await RunScheduler.ScheduleAsync(db, run, known, CancellationToken.None);
            await db.SaveChangesAsync(CancellationToken.None);
            return null;
        }

        if (run.Spec.Training.Epochs is { } epochs && run.StepsPerEpoch is null)
        {
            var stepsPerEpoch = TrainingJob.StepsPerEpoch(run.Spec, dataset,
                services.GetRequiredService<ArtifactStore>());
            try
            {
                run.PlanEpochs(stepsPerEpoch);
            }
            catch (RunStateException ex)
            {
                run.Fail("Not started: " + ex.Message);
                await db.SaveChangesAsync(CancellationToken.None);
                return null;
            }
            logger.LogInformation("run {RunId}: {Epochs} epochs of {StepsPerEpoch:N0} steps, {Steps:N0} steps in all",
                run.Id, epochs, stepsPerEpoch, run.MaxSteps);
        }
        // Checked again with the real vocabulary: a run that cannot fit fails with the estimate instead of the OOM
        // killer ending the worker.
        var estimate = estimator.Estimate(run.Spec.WithMaxSteps(run.MaxSteps), dataset.VocabSize);
        if (!estimate.Fits)
        {
            run.Fail("Not started: " + estimate.Explanation);
            await db.SaveChangesAsync(CancellationToken.None);
            logger.LogWarning("run {RunId} refused: needs {Need:N0} MiB, the worker has {Limit:N0} MiB", run.Id,
                estimate.Memory.PeakBytes >> 20, estimate.Memory.LimitBytes >> 20);
            return null;
        }
        return new Prepared(dataset, estimate);
    }

    /// <summary>
    /// Marks the run Training, from its latest checkpoint's step when it has one (taken over from a dead worker, or
    /// resumed). False when a cancel, a deletion or another worker's claim came after this worker's claim.
    /// </summary>
    private async Task<bool> StartAsync(IServiceProvider services, TrainingDbContext db, RunClaim claim,
        CancellationToken stoppingToken)
    {
        var run = claim.Run;
        var resumeStep = services.GetRequiredService<TrainingJob>().ResumableStep(run);
        run.Start(resumeStep ?? 0);
        try
        {
            await db.SaveChangesAsync(stoppingToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            logger.LogInformation("run {RunId}: cancelled (or taken by another worker) after this worker claimed it; " +
                "not started", run.Id);
            return false;
        }
        logger.LogInformation("run {RunId} claimed by {Worker} (lease {Token}){From}", run.Id, Id, claim.LeaseToken,
            resumeStep is { } s ? $", continuing from its checkpoint at step {s}" : "");
        if (resumeStep is { } step)
            metrics.Record(run.Id, "resumed_at_step", step, step);
        return true;
    }

    /// <summary>
    /// Trains under the lease, until the run ends, is cancelled, loses its lease or the worker stops, and says which;
    /// it writes nothing about how the run ended.
    /// </summary>
    private async Task<Attempt> ExecuteAsync(IServiceProvider services, TrainingDbContext db, RunClaim claim,
        Prepared prepared, CancellationToken stoppingToken)
    {
        var run = claim.Run;
        await using var heartbeat = new LeaseHeartbeat(scopes, claim, options.Value.Lease, logger);
        var cancelled = metrics.Track(run.Id, claim.LeaseToken);
        telemetry.Started();
        var startStep = run.Step;
        var wall = Stopwatch.StartNew();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        Attempt Ended(Outcome outcome, int? stepsDone = null) => new(outcome, startStep, stepsDone, wall.Elapsed,
            Process.GetCurrentProcess().TotalProcessorTime - cpuBefore);
        var attempt = Ended(Outcome.Failed);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancelled, heartbeat.Lost, stoppingToken);
        try
        {
            // Inside the lease and the run's cancellation: "auto" may time both precisions first.
            var precisions = services.GetRequiredService<PrecisionChoice>();
            var (precision, reason) = await precisions.DecideAsync(run, prepared.Dataset, linked.Token);
            run.UsePrecision(precision, reason);
            await db.SaveChangesAsync(linked.Token);
            logger.LogInformation("run {RunId} trains in {Precision}: {Reason}", run.Id, precision, reason);
            // A trial of both precisions is done once per shape and machine, not by this run: its cost starts here.
            wall.Restart();
            cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var trained = await services.GetRequiredService<TrainingJob>()
                .RunAsync(run, prepared.Dataset, heartbeat.Confirm, linked.Token);
            var stepsDone = trained.Outcome.Steps - trained.Outcome.StartStep;
            attempt = Ended(Outcome.Trained, stepsDone) with { Trained = trained };
        }
        catch (OperationCanceledException) when (heartbeat.Lost.IsCancellationRequested)
        {
            attempt = Ended(Outcome.LeaseLost);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested
            && !cancelled.IsCancellationRequested)
        {
            attempt = Ended(Outcome.HandedBack);
        }
        catch (OperationCanceledException) when (cancelled.IsCancellationRequested)
        {
            attempt = Ended(Outcome.Cancelled);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "run {RunId} failed", run.Id);
            attempt = Ended(Outcome.Failed) with { Error = ex };
        }
        finally
        {
            telemetry.Ended(attempt.Label);
        }
        return attempt;
    }

    /// <summary>
    /// Decides how the run ended, in one place: nothing is written without the lease; a run whose deletion was asked
    /// for is deleted now that it has stopped; otherwise it is Evaluating (announced as TrainingCompleted),
    /// Cancelled, Queued again (handed back by a stopping worker, no crash counted) or Failed with its reason; each
    /// attempt adds its cost.
    /// </summary>
    private async Task ConcludeAsync(IServiceProvider services, TrainingDbContext db, RunClaim claim,
        Prepared prepared, Attempt attempt)
    {
        var run = claim.Run;
        // Another worker holds the run now: this one writes nothing more.
        if (attempt.Outcome == Outcome.LeaseLost)
            return;
        // The checkpoint is on disk: a database that is away now delays the bookkeeping, it does not fail the run.
        await SettleAsync(db, run);
        if (run.LeaseToken != claim.LeaseToken)
        {
            logger.LogWarning("run {RunId}: ended ({Outcome}) without its lease (another worker holds it); nothing " +
                "written", run.Id, attempt.Label);
            return;
        }
        if (run.DeleteRequested)
        {
            await services.GetRequiredService<RunDeletion>().DeleteStoppedAsync(run, CancellationToken.None);
            return;
        }
        TrainingCompleted? completed = null;
        switch (attempt.Outcome)
        {
            case Outcome.Trained:
                completed = FinishTraining(run, prepared.Dataset, attempt.Trained!);
                break;
            case Outcome.Cancelled:
                run.MarkCancelled();
                logger.LogInformation("run {RunId} cancelled at step {Step}", run.Id, run.Step);
                break;
            case Outcome.HandedBack:
                // So a worker continues it from its latest checkpoint, no crash counted.
                if (run.State == RunState.Training)
                    run.Requeue();
                logger.LogInformation("run {RunId} handed back at step {Step}: this worker is stopping", run.Id,
                    run.Step);
                break;
            // A run whose cancel was asked for ends Cancelled even when its attempt failed first: the failure is
            // then most likely the cancel's cause at work (its dataset deleted, and its data with it).
            case Outcome.Failed when run.CancelRequested:
                run.MarkCancelled();
                logger.LogInformation("run {RunId} cancelled at step {Step} (it failed after its cancel was asked " +
                    "for)", run.Id, run.Step);
                break;
            default:
                run.Fail($"Training failed: {PublicReason.Of(attempt.Error!.GetBaseException())}");
                break;
        }
        run.AddCost(AttemptCost(prepared.Estimate, attempt.StepsDone ?? Math.Max(0, run.Step - attempt.StartStep),
            attempt.Wall, attempt.Cpu));
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

    /// <summary>The run has trained: it goes on to its evaluation, announced with what the evaluation needs.</summary>
    private TrainingCompleted FinishTraining(Run run, KnownDataset dataset, TrainedModel trained)
    {
        run.FinishTraining(trained.Parameters, trained.CheckpointKey, trained.CheckpointSha256, trained.Outcome.Steps);
        // A run taken over at its last step trains no step: its losses are the ones already recorded.
        var finalLoss = Finite(trained.Outcome.FinalTrainLoss) ?? run.LatestTrainLoss ?? 0;
        var finalValidation = Finite(trained.Outcome.FinalValidationLoss) ?? run.LatestValidationLoss;
        logger.LogInformation("run {RunId} trained in {Elapsed}: final loss {Loss:F4}, validation {Validation:F4}",
            run.Id, trained.Outcome.Elapsed, finalLoss, finalValidation);
        return new TrainingCompleted(run.Id, run.Name, trained.CheckpointKey, trained.CheckpointSha256,
            dataset.TokenizerKey!, dataset.ValidationTokensKey!, dataset.ValidationBytes ?? 0,
            dataset.ValidationTokens ?? 0, trained.Outcome.Steps, finalLoss, finalValidation, run.UpdatedAt,
            run.Spec.Model.Architecture, dataset.SourceTokenizerKey)
        {
            DatasetId = run.DatasetId,
            Owner = run.OwnerOf(),
            BaseModel = run.BaseModel,
            FineTuneMethod = run.BaseModel is null ? null : run.Spec.FineTune?.Method ?? FineTuneMethods.Full,
            RegisteredValidationLoss = run.Spec.Training.Registration == Registrations.Best
                ? run.BestValidationLoss
                : run.LatestValidationLoss,
            Lineage = run.Lineage ?? [run.DatasetId],
            ChatTemplate = dataset.Format == DatasetFormats.Chat ? Platform.Tokenizers.ChatTemplate.Jinja : null,
            Provenance = new TrainingProvenance(dataset.Name, dataset.TrainTokens, dataset.ValidationTokens,
                dataset.ValidationBytes, run.Spec),
        };
    }
}
