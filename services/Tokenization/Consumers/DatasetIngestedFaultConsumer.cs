using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Reliability;
using Tokenization.Data;

namespace Tokenization.Consumers;

/// <summary>
/// Tokenizing gave up after its retries, whatever the exception: the dataset fails with the reason, so it and the runs
/// waiting for it end visible instead of Ingested and WaitingForData for ever. A tokenizer built meanwhile wins.
/// </summary>
public sealed class DatasetIngestedFaultConsumer(TokenizationDbContext db, ILogger<DatasetIngestedFaultConsumer> logger)
    : IConsumer<Fault<DatasetIngested>>
{
    public async Task Consume(ConsumeContext<Fault<DatasetIngested>> context)
    {
        var fault = context.Message;
        var datasetId = fault.Message.DatasetId;
        if (!fault.IsFromThisService()
            || await db.DeletedDatasets.AnyAsync(d => d.DatasetId == datasetId, context.CancellationToken)
            || await db.Tokenizers.AnyAsync(t => t.DatasetId == datasetId, context.CancellationToken))
            return;
        logger.LogWarning("Dataset {Id} could not be tokenized: its message faulted after the retries", datasetId);
        db.PublishViaOutbox(new DatasetTokenizationFailed(datasetId,
            fault.Reason("Tokenizing") + "; upload the dataset again once the cause is fixed", DateTimeOffset.UtcNow));
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
