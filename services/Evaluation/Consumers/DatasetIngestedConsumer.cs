using Evaluation.Data;
using MassTransit;
using Platform.Contracts;

namespace Evaluation.Consumers;

/// <summary>Records a dataset (its format and validation split) so versions can be evaluated on it.
/// Idempotent.</summary>
public sealed class DatasetIngestedConsumer(EvaluationDbContext db) : IConsumer<DatasetIngested>
{
    public async Task Consume(ConsumeContext<DatasetIngested> context)
    {
        var m = context.Message;
        var dataset = await db.Datasets.FindAsync([m.DatasetId], context.CancellationToken);
        // Known already: ingested (a redelivery), deleted, or tokenized first (its events came out of order), when
        // only what Ingestion tells is filled in.
        if (dataset is { Deleted: true } || dataset?.Name.Length > 0)
            return;
        if (dataset is null)
            db.Datasets.Add(dataset = new KnownDataset { Id = m.DatasetId });
        (dataset.Name, dataset.Format, dataset.OwnerId) = (m.Name, m.Format, m.Owner?.Id);
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
