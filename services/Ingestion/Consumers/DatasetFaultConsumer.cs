using Ingestion.Data;
using MassTransit;
using Platform.ServiceDefaults.Reliability;

namespace Ingestion.Consumers;

/// <summary>
/// Recording what became of a dataset gave up after its retries (one of this service's own consumers faulted): the
/// dataset fails with the reason instead of staying Ingested.
/// </summary>
public abstract class DatasetFaultConsumer<TMessage>(
    IngestionDbContext db) : IConsumer<Fault<TMessage>> where TMessage : class
{
    protected abstract Guid DatasetOf(TMessage message);

    public async Task Consume(ConsumeContext<Fault<TMessage>> context)
    {
        var fault = context.Message;
        if (!fault.IsFromThisService())
            return;
        var dataset = await db.Datasets.FindAsync([DatasetOf(fault.Message)], context.CancellationToken);
        if (dataset is not null
            && dataset.MarkFailed(fault.Reason("Recording the dataset's tokenization") + "; upload it again"))
            await db.SaveChangesAsync(context.CancellationToken);
    }
}
