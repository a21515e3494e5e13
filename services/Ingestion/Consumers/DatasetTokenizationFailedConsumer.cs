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
        if (dataset is not null && dataset.MarkFailed($"Tokenization failed: {context.Message.Reason}"))
            await db.SaveChangesAsync(context.CancellationToken);
    }
}
