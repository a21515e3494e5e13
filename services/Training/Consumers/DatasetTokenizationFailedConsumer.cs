using MassTransit;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>Marks the dataset failed and fails the runs that were waiting for it, with the reason.</summary>
public sealed class DatasetTokenizationFailedConsumer(TrainingDbContext db) : IConsumer<DatasetTokenizationFailed>
{
    public Task Consume(ConsumeContext<DatasetTokenizationFailed> context)
    {
        var m = context.Message;
        return DatasetProjection.UpdateAsync(db, m.DatasetId, dataset =>
        {
            if (dataset.Status is DatasetStatus.Tokenized or DatasetStatus.Deleted)
                return Task.CompletedTask;
            dataset.Status = DatasetStatus.Failed;
            dataset.FailureReason = $"Tokenization failed: {m.Reason}";
            dataset.UpdatedAt = DateTimeOffset.UtcNow;
            return RunScheduler.ReleaseWaitingRunsAsync(db, dataset, context.CancellationToken);
        }, context.CancellationToken);
    }
}
