using Ingestion.Data;
using MassTransit;
using Platform.Contracts;

namespace Ingestion.Consumers;

/// <summary>Marks the dataset Tokenized; a redelivery finds it already so and changes nothing.</summary>
public sealed class DatasetTokenizedConsumer(IngestionDbContext db) : IConsumer<DatasetTokenized>
{
    public async Task Consume(ConsumeContext<DatasetTokenized> context)
    {
        var m = context.Message;
        var dataset = await db.Datasets.FindAsync([m.DatasetId], context.CancellationToken);
        if (dataset is null || dataset.State == DatasetState.Tokenized)
            return;
        dataset.State = DatasetState.Tokenized;
        dataset.FailureReason = null;
        dataset.TokenizerId = m.TokenizerId;
        dataset.TokenizerKind = m.TokenizerKind;
        dataset.VocabSize = m.VocabSize;
        dataset.TrainTokens = m.TrainTokens;
        dataset.ValidationTokens = m.ValidationTokens;
        dataset.UpdatedAt = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
