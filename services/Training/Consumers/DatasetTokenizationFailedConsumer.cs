using MassTransit;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>Marks the dataset failed and fails the runs that were waiting for it, with the reason.</summary>
public sealed class DatasetTokenizationFailedConsumer(TrainingDbContext db) : IConsumer<DatasetTokenizationFailed>
{
    public async Task Consume(ConsumeContext<DatasetTokenizationFailed> context)
    {
        var m = context.Message;
        await using var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken);
        await RunScheduler.LockDatasetAsync(db, m.DatasetId, context.CancellationToken);

        var dataset = await db.Datasets.FindAsync([m.DatasetId], context.CancellationToken);
        if (dataset is null)
            db.Datasets.Add(dataset = new KnownDataset { Id = m.DatasetId });
        if (dataset.Status != DatasetStatus.Tokenized)
        {
            dataset.Status = DatasetStatus.Failed;
            dataset.FailureReason = $"Tokenization failed: {m.Reason}";
            dataset.UpdatedAt = DateTimeOffset.UtcNow;
            await RunScheduler.ReleaseWaitingRunsAsync(db, dataset, context.CancellationToken);
        }

        await db.SaveChangesAsync(context.CancellationToken);
        await transaction.CommitAsync(context.CancellationToken);
    }
}
