using MassTransit;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>Marks the dataset trainable and starts the runs that were waiting for it.</summary>
public sealed class DatasetTokenizedConsumer(TrainingDbContext db) : IConsumer<DatasetTokenized>
{
    public Task Consume(ConsumeContext<DatasetTokenized> context)
    {
        var m = context.Message;
        return DatasetProjection.UpdateAsync(db, m.DatasetId, dataset =>
        {
            if (dataset.Status == DatasetStatus.Deleted)
                return Task.CompletedTask;
            dataset.Status = DatasetStatus.Tokenized;
            dataset.FailureReason = null;
            dataset.TokenizerId = m.TokenizerId;
            dataset.TokenizerKey = m.TokenizerKey;
            dataset.TrainTokensKey = m.TrainTokensKey;
            dataset.ValidationTokensKey = m.ValidationTokensKey;
            dataset.VocabSize = m.VocabSize;
            dataset.Format = m.FormatOrInferred;
            if (m.Pairs is { } pairs)
                (dataset.SourceTokenizerKey, dataset.SourceVocabSize) = (pairs.SourceTokenizerKey,
                    pairs.SourceVocabSize);
            dataset.TrainTokens = m.TrainTokens;
            dataset.ValidationTokens = m.ValidationTokens;
            dataset.ValidationBytes = m.ValidationBytes;
            dataset.UpdatedAt = DateTimeOffset.UtcNow;
            return RunScheduler.ReleaseWaitingRunsAsync(db, dataset, context.CancellationToken);
        }, context.CancellationToken);
    }
}
