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
/// Encodes a dataset with other tokenizers, once per (dataset, tokenizers): a repeated request announces the encoding
/// that exists. A deleted or unknown dataset, or a tokenizer that cannot encode it, is answered DatasetEncodingFailed.
/// </summary>
public sealed class EncodeDatasetConsumer(TokenizationDbContext db, DatasetEncoder encoder, ArtifactStore store,
    ILogger<EncodeDatasetConsumer> logger)
    : IConsumer<EncodeDataset>
{
    public async Task Consume(ConsumeContext<EncodeDataset> context)
    {
        var (datasetId, tokenizerKey, sourceKey) = (context.Message.DatasetId, context.Message.TokenizerKey,
            context.Message.SourceTokenizerKey);
        var existing = await db.Encodings.AsNoTracking().FirstOrDefaultAsync(e => e.DatasetId == datasetId
            && e.TokenizerKey == tokenizerKey && e.SourceTokenizerKey == (sourceKey ?? ""),
            context.CancellationToken);
        if (existing is not null)
        {
            Announce(existing);
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }
        var dataset = await db.Tokenizers.AsNoTracking().FirstOrDefaultAsync(t => t.DatasetId == datasetId,
            context.CancellationToken);
        if (dataset is null
            || await db.DeletedDatasets.AnyAsync(d => d.DatasetId == datasetId, context.CancellationToken))
        {
            await FailAsync(context.Message, $"Dataset {datasetId} is not tokenized (or was deleted).",
                context.CancellationToken);
            return;
        }

        DatasetEncoding encoding;
        try
        {
            encoding = await encoder.EncodeWithAsync(dataset, tokenizerKey, sourceKey, context.CancellationToken);
        }
        catch (Exception ex) when (
            ex is NotSupportedException or UnknownTokenException or InvalidDataException or DecoderFallbackException
            or ArgumentException)
        {
            logger.LogWarning("Dataset {Id} cannot be encoded with another tokenizer ({Error})", datasetId,
                ex.GetType().Name);
            await FailAsync(context.Message, ex.Message, context.CancellationToken);
            return;
        }

        var kept = await db.ChangeUnderLockAsync(datasetId, async () =>
        {
            if (await db.DeletedDatasets.AnyAsync(d => d.DatasetId == datasetId, context.CancellationToken))
                return false;
            db.Encodings.Add(encoding);
            Announce(encoding);
            return true;
        }, context.CancellationToken);
        if (!kept)
        {
            store.DeletePrefix(Path.GetDirectoryName(encoding.TrainTokensKey)!);
            return;
        }
        logger.LogInformation("Dataset {Id} encoded with another tokenizer (vocabulary {Vocab}): {Train} train / " +
            "{Val} validation tokens in {Ms} ms",
            datasetId, encoding.VocabSize, encoding.TrainTokens, encoding.ValidationTokens, encoding.BuildMilliseconds);
    }

    private async Task FailAsync(EncodeDataset request, string reason, CancellationToken cancellationToken)
    {
        db.PublishViaOutbox(new DatasetEncodingFailed(request.DatasetId, request.TokenizerKey, reason,
            DateTimeOffset.UtcNow, request.SourceTokenizerKey));
        await db.SaveChangesAsync(cancellationToken);
    }

    private void Announce(DatasetEncoding e) =>
        db.PublishViaOutbox(new DatasetEncoded(e.DatasetId, e.TokenizerKey, e.VocabSize, e.TrainTokensKey,
            e.ValidationTokensKey, e.TrainTokens, e.ValidationTokens, e.ValidationBytes, DateTimeOffset.UtcNow,
            e.SourceTokenizerKey.Length == 0 ? null : e.SourceTokenizerKey));
}

public sealed class EncodeDatasetConsumerDefinition : ConsumerDefinition<EncodeDatasetConsumer>
{
    public EncodeDatasetConsumerDefinition() => EndpointName = Queues.EncodeDataset;
}
