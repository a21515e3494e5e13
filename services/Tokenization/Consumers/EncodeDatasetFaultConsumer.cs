using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Reliability;
using Tokenization.Data;

namespace Tokenization.Consumers;

/// <summary>Encoding gave up after its retries, whatever the exception: the requester hears why, so its runs do not
/// wait for ever.</summary>
public sealed class EncodeDatasetFaultConsumer(TokenizationDbContext db) : IConsumer<Fault<EncodeDataset>>
{
    public async Task Consume(ConsumeContext<Fault<EncodeDataset>> context)
    {
        var fault = context.Message;
        if (!fault.IsFromThisService())
            return;
        var (datasetId, key, source) = (fault.Message.DatasetId, fault.Message.TokenizerKey,
            fault.Message.SourceTokenizerKey);
        if (await db.Encodings.AnyAsync(e => e.DatasetId == datasetId && e.TokenizerKey == key
            && e.SourceTokenizerKey == (source ?? ""), context.CancellationToken))
            return;
        db.PublishViaOutbox(new DatasetEncodingFailed(datasetId, key, fault.Reason("Encoding the dataset"),
            DateTimeOffset.UtcNow, source));
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
