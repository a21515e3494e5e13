using System.Text;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.Tokenizers;
using Tokenization.Data;
using Tokenization.Encoding;

namespace Tokenization.Consumers;

/// <summary>
/// Tokenizes a newly ingested dataset. Idempotent: if the dataset already has a tokenizer (a redelivery),
/// the existing one is announced again instead of building a second.
/// </summary>
public sealed class DatasetIngestedConsumer(TokenizationDbContext db, DatasetEncoder encoder, ILogger<DatasetIngestedConsumer> logger)
    : IConsumer<DatasetIngested>
{
    public async Task Consume(ConsumeContext<DatasetIngested> context)
    {
        var dataset = context.Message;
        var record = await db.Tokenizers.AsNoTracking().FirstOrDefaultAsync(t => t.DatasetId == dataset.DatasetId, context.CancellationToken);
        if (record is null)
        {
            try
            {
                record = await encoder.EncodeAsync(dataset, context.CancellationToken);
            }
            catch (Exception ex) when (ex is NotSupportedException or UnknownTokenException or InvalidDataException or DecoderFallbackException or ArgumentException)
            {
                logger.LogWarning("Dataset {Id} cannot be tokenized: {Reason}", dataset.DatasetId, ex.Message);
                db.PublishViaOutbox(new DatasetTokenizationFailed(dataset.DatasetId, ex.Message, DateTimeOffset.UtcNow));
                await db.SaveChangesAsync(context.CancellationToken);
                return;
            }
            db.Tokenizers.Add(record);
            logger.LogInformation("Dataset {Id}: {Kind} tokenizer, vocabulary {Vocab}, {Train} train / {Val} validation tokens in {Ms} ms",
                dataset.DatasetId, record.Kind, record.VocabSize, record.TrainTokens, record.ValidationTokens, record.BuildMilliseconds);
        }

        db.PublishViaOutbox(new DatasetTokenized(record.DatasetId, record.Id, record.Kind, record.VocabSize, record.TokenizerKey,
            record.TrainTokensKey, record.ValidationTokensKey, record.TrainTokens, record.ValidationTokens, record.ValidationBytes,
            DateTimeOffset.UtcNow));
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
