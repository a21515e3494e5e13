using Evaluation.Data;
using Evaluation.Scoring;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;

namespace Evaluation.Consumers;

/// <summary>
/// Tokenization encoded a dataset with a version's tokenizer: the evaluations waiting for that encoding are ready to
/// be scored. A redelivery finds none waiting.
/// </summary>
public sealed class DatasetEncodedConsumer(EvaluationDbContext db, EvaluationWorker worker)
    : IConsumer<DatasetEncoded>
{
    public async Task Consume(ConsumeContext<DatasetEncoded> context)
    {
        var m = context.Message;
        var waiting = await EvaluationRecord.AwaitingEncoding(db.Evaluations, m.DatasetId, m.TokenizerKey,
            m.SourceTokenizerKey).ToListAsync(context.CancellationToken);
        if (waiting.Count == 0)
            return;
        foreach (var evaluation in waiting)
            evaluation.Encoded(m);
        await db.SaveChangesAsync(context.CancellationToken);
        worker.Wake();
    }
}
