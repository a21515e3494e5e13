using System.Text;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Platform.Storage;
using Platform.Tokenizers;
using Tokenization.Data;
using Tokenization.Encoding;

namespace Tokenization.Consumers;

/// <summary>
/// Tokenizes a newly ingested dataset. Idempotent: if the dataset already has a tokenizer (a redelivery),
/// the existing one is announced again instead of building a second. A dataset deleted before or while it is
/// encoded gets nothing: the result is kept only if, under the dataset's lock, no deletion has been recorded.
/// </summary>
public sealed class DatasetIngestedConsumer(TokenizationDbContext db, DatasetEncoder encoder, ArtifactStore store,
    ILogger<DatasetIngestedConsumer> logger)
    : IConsumer<DatasetIngested>
{
    public async Task Consume(ConsumeContext<DatasetIngested> context)
    {
        var dataset = context.Message;
        if (await db.DeletedDatasets.AnyAsync(d => d.DatasetId == dataset.DatasetId, context.CancellationToken))
            return;
        var record = await db.Tokenizers.AsNoTracking().FirstOrDefaultAsync(t => t.DatasetId == dataset.DatasetId,
            context.CancellationToken);
        if (record is null)
        {
            try
            {
                record = await encoder.EncodeAsync(dataset, context.CancellationToken);
            }
            catch (Exception ex) when (
                ex is NotSupportedException or UnknownTokenException or InvalidDataException or DecoderFallbackException
                                           or ArgumentException)
            {
                // Bad data fails at once: retrying cannot help, and its message may quote the text, so the reason goes
                // to the dataset's owner while the log names only the error. Anything else (I/O, database, a bug) is
                // retried, then ends the dataset Failed through DatasetIngestedFaultConsumer.
                logger.LogWarning("Dataset {Id} cannot be tokenized ({Error})", dataset.DatasetId, ex.GetType().Name);
                db.PublishViaOutbox(new DatasetTokenizationFailed(dataset.DatasetId, ex.Message,
                    DateTimeOffset.UtcNow));
                await db.SaveChangesAsync(context.CancellationToken);
                return;
            }

            var kept = await db.ChangeUnderLockAsync(dataset.DatasetId, async () =>
            {
                if (await db.DeletedDatasets.AnyAsync(d => d.DatasetId == dataset.DatasetId, context.CancellationToken))
                    return false;
                db.Tokenizers.Add(record);
                Announce(record);
                return true;
            }, context.CancellationToken);
            if (!kept)
            {
                store.DeletePrefix(TokenizerRecord.PrefixOf(record.Id));
                logger.LogInformation("Dataset {Id} was deleted while it was tokenized; its tokenizer is discarded",
                    dataset.DatasetId);
                return;
            }
            logger.LogInformation("Dataset {Id}: {Kind} tokenizer, vocabulary {Vocab}, {Train} train / {Val} " +
                "validation tokens in {Ms} ms",
                dataset.DatasetId, record.Kind, record.VocabSize, record.TrainTokens, record.ValidationTokens,
                record.BuildMilliseconds);
            return;
        }

        Announce(record);
        await db.SaveChangesAsync(context.CancellationToken);
    }

    private void Announce(TokenizerRecord record) =>
        db.PublishViaOutbox(new DatasetTokenized(record.DatasetId, record.Id, record.Kind, record.VocabSize,
        record.TokenizerKey,
            record.TrainTokensKey, record.ValidationTokensKey, record.TrainTokens, record.ValidationTokens,
            record.ValidationBytes,
            DateTimeOffset.UtcNow,
            record.Format == DatasetFormats.Pairs
                ? new PairedTokens(record.SourceTokenizerKey, record.SourceVocabSize ?? record.VocabSize,
                record.TrainPairs ?? 0, record.ValidationPairs ?? 0)
                : null, record.Format));
}
