using MassTransit;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>
/// Trains the run. The message stays unacknowledged while training, so if the process dies RabbitMQ
/// redelivers it and the run continues from its latest checkpoint; a run already past training is left alone.
/// A run whose deletion was asked for while it trained is deleted here, once training has stopped.
/// </summary>
public sealed class StartTrainingConsumer(TrainingDbContext db, TrainingJob job, MetricsWriter metrics, RunDeletion deletion,
    ILogger<StartTrainingConsumer> logger) : IConsumer<StartTraining>
{
    public async Task Consume(ConsumeContext<StartTraining> context)
    {
        var run = await db.Runs.FindAsync([context.Message.RunId], context.CancellationToken);
        if (run is null || run.IsFinished || run.State == RunState.Evaluating)
            return;
        if (run.DeleteRequested)
        {
            await DeleteAsync(run, context.CancellationToken);
            return;
        }
        if (run.CancelRequested)
        {
            run.MarkCancelled();
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }
        var dataset = await db.Datasets.FindAsync([run.DatasetId], context.CancellationToken);
        if (dataset?.Status != DatasetStatus.Tokenized)
        {
            run.WaitForData();
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }

        // A redelivery after a crash, or a resume request, continues from the latest checkpoint.
        var resumeStep = job.ResumableStep(run);
        run.Start(resumeStep ?? 0);
        await db.SaveChangesAsync(context.CancellationToken);
        if (resumeStep is { } step)
        {
            metrics.Record(run.Id, "resumed_at_step", step, step);
            logger.LogInformation("run {RunId} continues from its checkpoint at step {Step}", run.Id, step);
        }

        var cancelled = metrics.Track(run.Id);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancelled, context.CancellationToken);
        try
        {
            var trained = await job.RunAsync(run, dataset, linked.Token);
            await metrics.FlushAsync(context.CancellationToken);
            await db.Entry(run).ReloadAsync(context.CancellationToken);
            if (run.DeleteRequested)
            {
                await DeleteAsync(run, CancellationToken.None);
                return;
            }
            run.FinishTraining(trained.Parameters, trained.CheckpointKey, trained.CheckpointSha256, trained.Outcome.Steps);
            db.PublishViaOutbox(new TrainingCompleted(run.Id, run.Name, trained.CheckpointKey, trained.CheckpointSha256,
                dataset.TokenizerKey!, dataset.ValidationTokensKey!, dataset.ValidationBytes ?? 0, dataset.ValidationTokens ?? 0,
                trained.Outcome.Steps, trained.Outcome.FinalTrainLoss, trained.Outcome.FinalValidationLoss, run.UpdatedAt));
            logger.LogInformation("run {RunId} trained in {Elapsed}: final loss {Loss:F4}, validation {Validation:F4}",
                run.Id, trained.Outcome.Elapsed, trained.Outcome.FinalTrainLoss, trained.Outcome.FinalValidationLoss);
        }
        catch (OperationCanceledException) when (cancelled.IsCancellationRequested)
        {
            await metrics.FlushAsync(CancellationToken.None);
            await db.Entry(run).ReloadAsync(CancellationToken.None);
            if (run.DeleteRequested)
            {
                await DeleteAsync(run, CancellationToken.None);
                return;
            }
            run.MarkCancelled();
            logger.LogInformation("run {RunId} cancelled at step {Step}", run.Id, run.Step);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "run {RunId} failed", run.Id);
            await db.Entry(run).ReloadAsync(CancellationToken.None);
            if (run.DeleteRequested)
            {
                await DeleteAsync(run, CancellationToken.None);
                return;
            }
            run.Fail($"Training failed: {ex.GetBaseException().Message}");
            db.PublishViaOutbox(new TrainingFailed(run.Id, run.FailureReason!, run.UpdatedAt));
        }
        finally
        {
            metrics.Untrack(run.Id);
        }
        await db.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>Deletes a run whose deletion was asked for while it trained: it has stopped, so it is cancelled, then deleted.</summary>
    private async Task DeleteAsync(Run run, CancellationToken cancellationToken)
    {
        if (run.State == RunState.Training)
            run.MarkCancelled();
        await deletion.DeleteNowAsync(run, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        deletion.RemoveFiles(run.Id);
    }
}

/// <summary>One run at a time per instance (a run uses every core it is given); add instances to train more at once.</summary>
public sealed class StartTrainingConsumerDefinition : ConsumerDefinition<StartTrainingConsumer>
{
    public StartTrainingConsumerDefinition()
    {
        EndpointName = Queues.StartTraining;
        ConcurrentMessageLimit = 1;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint, IConsumerConfigurator<StartTrainingConsumer> consumer,
        IRegistrationContext context)
    {
        endpoint.PrefetchCount = 1;
        // A failed run is recorded as Failed with its reason; retrying would only train it again.
        endpoint.UseMessageRetry(r => r.None());
    }
}
