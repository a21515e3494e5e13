using Evaluation.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;

namespace Evaluation.Consumers;

/// <summary>
/// The dataset is tokenized, so Tokenization can encode it with a version's tokenizer: the evaluations requested on it
/// before then ask for their encoding now. Under the dataset's lock, which the worker takes to ask too, so none is
/// missed. A redelivery changes nothing.
/// </summary>
public sealed class DatasetTokenizedConsumer(EvaluationDbContext db) : IConsumer<DatasetTokenized>
{
    public Task Consume(ConsumeContext<DatasetTokenized> context)
    {
        var m = context.Message;
        return db.ChangeUnderLockAsync(m.DatasetId, async () =>
        {
            var dataset = await db.Datasets.FindAsync([m.DatasetId], context.CancellationToken);
            if (dataset is { Tokenized: true })
                return false;
            if (dataset is null)
                db.Datasets.Add(dataset = new KnownDataset
                {
                    Id = m.DatasetId,
                    Format = m.FormatOrInferred,
                });
            dataset.Tokenized = true;
            var waiting = await EvaluationRecord.AwaitingEncoding(db.Evaluations, m.DatasetId)
                .ToListAsync(context.CancellationToken);
            foreach (var evaluation in waiting)
                db.SendViaOutbox(evaluation.EncodingRequest(), Queues.EncodeDataset);
            return true;
        }, context.CancellationToken);
    }
}
