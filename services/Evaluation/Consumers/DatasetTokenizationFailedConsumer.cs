using Evaluation.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Persistence;

namespace Evaluation.Consumers;

/// <summary>The dataset could not be tokenized, so no version can be evaluated on it: the evaluations waiting for it
/// fail with the reason, as later requests will. Under the dataset's lock, as the worker asks.</summary>
public sealed class DatasetTokenizationFailedConsumer(EvaluationDbContext db) : IConsumer<DatasetTokenizationFailed>
{
    public Task Consume(ConsumeContext<DatasetTokenizationFailed> context)
    {
        var m = context.Message;
        return db.ChangeUnderLockAsync(m.DatasetId, async () =>
        {
            var dataset = await db.Datasets.FindAsync([m.DatasetId], context.CancellationToken);
            if (dataset is null)
                db.Datasets.Add(dataset = new KnownDataset { Id = m.DatasetId });
            dataset.TokenizationFailure = m.Reason;
            var waiting = await EvaluationRecord.AwaitingEncoding(db.Evaluations, m.DatasetId)
                .ToListAsync(context.CancellationToken);
            foreach (var evaluation in waiting)
                evaluation.Fail(KnownDataset.NotTokenized(m.Reason));
            return true;
        }, context.CancellationToken);
    }
}
