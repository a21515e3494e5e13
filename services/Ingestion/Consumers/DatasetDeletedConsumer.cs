using Ingestion.Data;
using MassTransit;
using Platform.Contracts;
using Platform.Storage;

namespace Ingestion.Consumers;

/// <summary>
/// Removes a deleted dataset's files (corpus, splits, uploaded tokenizer). The API already did, right after the
/// deletion committed; this makes it certain even if the service died in between. Idempotent.
/// </summary>
public sealed class DatasetDeletedConsumer(ArtifactStore store) : IConsumer<DatasetDeleted>
{
    public Task Consume(ConsumeContext<DatasetDeleted> context)
    {
        store.DeletePrefix(Dataset.PrefixOf(context.Message.DatasetId));
        return Task.CompletedTask;
    }
}
