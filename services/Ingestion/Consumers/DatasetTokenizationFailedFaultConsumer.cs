using Ingestion.Data;
using MassTransit;
using Platform.Contracts;
using Platform.ServiceDefaults.Reliability;

namespace Ingestion.Consumers;

/// <summary>Recording the dataset's tokenization gave up after its retries: the dataset fails with the reason instead of staying Ingested.</summary>
public sealed class DatasetTokenizationFailedFaultConsumer(IngestionDbContext db) : IConsumer<Fault<DatasetTokenizationFailed>>
{
    public async Task Consume(ConsumeContext<Fault<DatasetTokenizationFailed>> context)
    {
        var fault = context.Message;
        if (!fault.IsFromThisService())
            return;
        var dataset = await db.Datasets.FindAsync([fault.Message.DatasetId], context.CancellationToken);
        if (dataset is not null && dataset.MarkFailed(fault.Reason("Recording the dataset's tokenization") + "; upload it again"))
            await db.SaveChangesAsync(context.CancellationToken);
    }
}
