using Ingestion.Data;
using MassTransit;
using Platform.Contracts;

namespace Ingestion.Consumers;

/// <summary>
/// Marks the dataset Tokenized; a redelivery, or the event of a deleted dataset, changes nothing. This event flows
/// against the pipeline's direction on purpose: a dataset's page (GET /api/datasets/{id}, the dashboard, the CLI's
/// --wait) is Ingestion's, and shows where its data is; the alternative is every reader asking Tokenization too.
/// </summary>
public sealed class DatasetTokenizedConsumer(IngestionDbContext db) : IConsumer<DatasetTokenized>
{
    public async Task Consume(ConsumeContext<DatasetTokenized> context)
    {
        var dataset = await db.Datasets.FindAsync([context.Message.DatasetId], context.CancellationToken);
        if (dataset is not null && dataset.MarkTokenized(context.Message))
            await db.SaveChangesAsync(context.CancellationToken);
    }
}
