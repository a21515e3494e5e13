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
        if (await db.Datasets.FindAsync([m.DatasetId], context.CancellationToken) is not null)
            return;
        db.Datasets.Add(new KnownDataset
        {
            Id = m.DatasetId,
            Name = m.Name,
            Format = m.Format,
            ValidationTextKey = m.ValidationTextKey,
            ValidationBytes = m.ValidationBytes,
            OwnerId = m.Owner?.Id,
        });
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
