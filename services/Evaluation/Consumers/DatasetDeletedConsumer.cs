using Evaluation.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;

namespace Evaluation.Consumers;

/// <summary>
/// Marks a deleted dataset (nothing more is evaluated on it, even if its ingestion event comes late) and removes the
/// evaluations requested on it: their samples hold its text. Idempotent.
/// </summary>
public sealed class DatasetDeletedConsumer(EvaluationDbContext db) : IConsumer<DatasetDeleted>
{
    public async Task Consume(ConsumeContext<DatasetDeleted> context)
    {
        var id = context.Message.DatasetId;
        var dataset = await db.Datasets.FindAsync([id], context.CancellationToken);
        if (dataset is null)
            db.Datasets.Add(new KnownDataset { Id = id, Deleted = true });
        else
            dataset.Deleted = true;
        db.Evaluations.RemoveRange(await db.Evaluations.Where(e =>
            e.DatasetId == id).ToListAsync(context.CancellationToken));
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
