using MassTransit;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>Records a dataset's encoding with another tokenizer and starts the runs that were waiting for it. Idempotent.</summary>
public sealed class DatasetEncodedConsumer(TrainingDbContext db) : IConsumer<DatasetEncoded>
{
    public Task Consume(ConsumeContext<DatasetEncoded> context)
    {
        var m = context.Message;
        return DatasetProjection.UpdateAsync(db, m.DatasetId, async dataset =>
        {
            var encoding = await db.Encodings.FindAsync([m.DatasetId, m.TokenizerKey], context.CancellationToken);
            if (encoding is null)
                db.Encodings.Add(encoding = new KnownEncoding { DatasetId = m.DatasetId, TokenizerKey = m.TokenizerKey });
            encoding.Status = EncodingStatus.Ready;
            encoding.FailureReason = null;
            (encoding.VocabSize, encoding.TrainTokensKey, encoding.ValidationTokensKey) = (m.VocabSize, m.TrainTokensKey, m.ValidationTokensKey);
            (encoding.ValidationTokens, encoding.ValidationBytes, encoding.UpdatedAt) = (m.ValidationTokens, m.ValidationBytes, DateTimeOffset.UtcNow);
            if (dataset.Status == DatasetStatus.Tokenized)
                await RunScheduler.ReleaseWaitingRunsAsync(db, dataset, context.CancellationToken);
        }, context.CancellationToken);
    }
}
