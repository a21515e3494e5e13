using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Persistence;
using Platform.Storage;
using Tokenization.Data;

namespace Tokenization.Consumers;

/// <summary>
/// Removes the tokenizer and token files of a deleted dataset (a trained vocabulary holds the corpus's frequent
/// strings) and records the deletion, so a late or repeated ingestion event builds nothing. Idempotent.
/// </summary>
public sealed class DatasetDeletedConsumer(TokenizationDbContext db, ArtifactStore store,
    ILogger<DatasetDeletedConsumer> logger) : IConsumer<DatasetDeleted>
{
    public async Task Consume(ConsumeContext<DatasetDeleted> context)
    {
        var id = context.Message.DatasetId;
        List<TokenizerRecord> tokenizers = [];
        await db.ChangeUnderLockAsync(id, async () =>
        {
            if (!await db.DeletedDatasets.AnyAsync(d => d.DatasetId == id, context.CancellationToken))
                db.DeletedDatasets.Add(new DeletedDataset { DatasetId = id, DeletedAt = context.Message.DeletedAt });
            tokenizers = await db.Tokenizers.Where(t => t.DatasetId == id).ToListAsync(context.CancellationToken);
            db.Tokenizers.RemoveRange(tokenizers);
            // The encodings' files lie under the dataset tokenizer's prefix, removed below.
            db.Encodings.RemoveRange(await db.Encodings.Where(e =>
                e.DatasetId == id).ToListAsync(context.CancellationToken));
            return true;
        }, context.CancellationToken);
        foreach (var tokenizer in tokenizers)
            store.DeletePrefix(TokenizerRecord.PrefixOf(tokenizer.Id));
        logger.LogInformation("Dataset {Id} deleted: {Count} tokenizer(s) and their token files removed", id,
            tokenizers.Count);
    }
}
