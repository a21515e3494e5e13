using MassTransit;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>Marks the dataset trainable and starts the runs that were waiting for it.</summary>
public sealed class DatasetTokenizedConsumer(TrainingDbContext db) : IConsumer<DatasetTokenized>
{
    public async Task Consume(ConsumeContext<DatasetTokenized> context)
    {
        var m = context.Message;
        await using var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken);
        await RunScheduler.LockDatasetAsync(db, m.DatasetId, context.CancellationToken);

        var dataset = await db.Datasets.FindAsync([m.DatasetId], context.CancellationToken);
        if (dataset is null)
            db.Datasets.Add(dataset = new KnownDataset { Id = m.DatasetId });
        dataset.Status = DatasetStatus.Tokenized;
        dataset.FailureReason = null;
        dataset.TokenizerId = m.TokenizerId;
        dataset.TokenizerKey = m.TokenizerKey;
        dataset.TrainTokensKey = m.TrainTokensKey;
        dataset.ValidationTokensKey = m.ValidationTokensKey;
        dataset.VocabSize = m.VocabSize;
        dataset.ValidationTokens = m.ValidationTokens;
        dataset.ValidationBytes = m.ValidationBytes;
        dataset.UpdatedAt = DateTimeOffset.UtcNow;
        await RunScheduler.ReleaseWaitingRunsAsync(db, dataset, context.CancellationToken);

        await db.SaveChangesAsync(context.CancellationToken);
        await transaction.CommitAsync(context.CancellationToken);
    }
}
