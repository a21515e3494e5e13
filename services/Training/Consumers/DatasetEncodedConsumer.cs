using MassTransit;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>Records a dataset's encoding with another tokenizer and starts the runs that were waiting for it.
/// Idempotent.</summary>
public sealed class DatasetEncodedConsumer(TrainingDbContext db) : IConsumer<DatasetEncoded>
{
    public Task Consume(ConsumeContext<DatasetEncoded> context)
    {
        var m = context.Message;
        return DatasetProjection.UpdateAsync(db, m.DatasetId, async dataset =>
        {
            (await KnownEncoding.FindOrAddAsync(db, m.DatasetId, m.TokenizerKey,
                context.CancellationToken)).MarkReady(m);
            if (dataset.Status == DatasetStatus.Tokenized)
                await RunScheduler.ReleaseWaitingRunsAsync(db, dataset, context.CancellationToken);
        }, context.CancellationToken);
    }
}
