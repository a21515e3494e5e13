using MassTransit;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>Records that a dataset cannot be encoded with a tokenizer and fails the runs that were waiting for it, with
/// the reason.</summary>
public sealed class DatasetEncodingFailedConsumer(TrainingDbContext db) : IConsumer<DatasetEncodingFailed>
{
    public Task Consume(ConsumeContext<DatasetEncodingFailed> context)
    {
        var m = context.Message;
        return DatasetProjection.UpdateAsync(db, m.DatasetId, async dataset =>
        {
            if (!(await KnownEncoding.FindOrAddAsync(db, m.DatasetId, m.TokenizerKey,
                context.CancellationToken)).MarkFailed(m.Reason))
                return;
            if (dataset.Status == DatasetStatus.Tokenized)
                await RunScheduler.ReleaseWaitingRunsAsync(db, dataset, context.CancellationToken);
        }, context.CancellationToken);
    }
}
