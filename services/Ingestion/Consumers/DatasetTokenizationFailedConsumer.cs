using Ingestion.Data;
using MassTransit;
using Platform.Contracts;

namespace Ingestion.Consumers;

/// <summary>Shows why tokenization failed on the dataset itself.</summary>
public sealed class DatasetTokenizationFailedConsumer(IngestionDbContext db) : IConsumer<DatasetTokenizationFailed>
{
    public async Task Consume(ConsumeContext<DatasetTokenizationFailed> context)
    {
        var dataset = await db.Datasets.FindAsync([context.Message.DatasetId], context.CancellationToken);
        if (dataset is null || dataset.State is DatasetState.Tokenized or DatasetState.Failed)
            return;
        dataset.State = DatasetState.Failed;
        dataset.FailureReason = $"Tokenization failed: {context.Message.Reason}";
        dataset.UpdatedAt = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
