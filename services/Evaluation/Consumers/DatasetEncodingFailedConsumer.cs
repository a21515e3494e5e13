using Evaluation.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;

namespace Evaluation.Consumers;

/// <summary>The dataset cannot be encoded with the version's tokenizer (text it cannot encode, say): the evaluations
/// waiting for it fail with Tokenization's reason.</summary>
public sealed class DatasetEncodingFailedConsumer(EvaluationDbContext db) : IConsumer<DatasetEncodingFailed>
{
    public async Task Consume(ConsumeContext<DatasetEncodingFailed> context)
    {
        var m = context.Message;
        var waiting = await EvaluationRecord.AwaitingEncoding(db.Evaluations, m.DatasetId, m.TokenizerKey,
            m.SourceTokenizerKey).ToListAsync(context.CancellationToken);
        foreach (var evaluation in waiting)
            evaluation.Fail(m.Reason);
        if (waiting.Count > 0)
            await db.SaveChangesAsync(context.CancellationToken);
    }
}
