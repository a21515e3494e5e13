using System.Diagnostics;
using System.Text;
using Platform.Contracts;
using Platform.Storage;
using Platform.Tokenizers;
using Platform.Tokenizers.Kinds;
using Tokenization.Data;

namespace Tokenization.Encoding;

/// <summary>
/// Builds the tokenizer of a conversation dataset, with the chat template's markers added as special tokens, and
/// encodes each split as the template renders its conversations: a token file whose loss mask marks the assistant's
/// replies and end markers (see <see cref="ChatTemplate"/>). An uploaded tokenizer must already hold the markers.
/// </summary>
public sealed class ChatEncoder(ArtifactStore store)
{
    public async Task<TokenizerRecord> EncodeAsync(DatasetIngested dataset, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var train = Read(dataset.TrainTextKey);
        var validation = Read(dataset.ValidationTextKey);
        var tokenizer = TokenizerBuilder.Build(store, dataset.Tokenizer,
            new TokenizerCorpus(() => Text(train), () => Text(validation), ChatTemplate.SpecialTokens));
        // A tokenizer without the markers (an uploaded one) is refused here, with the reason, before anything is
        // written.
        ChatTemplate.MarkersOf(tokenizer);

        var id = Guid.NewGuid();
        var record = TokenizerRecord.For(id, dataset, tokenizer, "bin");
        record.Format = DatasetFormats.Chat;
        record.TokenDType = TokenFileInfo.DTypeFor(tokenizer.VocabSize).ToString().ToLowerInvariant();
        try
        {
            await store.WriteAsync(record.TokenizerKey, s => { tokenizer.Save(s); return Task.CompletedTask; });
            (record.TrainTokens, record.ValidationTokens) = await EncodeSplitsAsync(train, validation, tokenizer, id,
                record.TrainTokensKey, record.ValidationTokensKey, cancellationToken);
        }
        catch
        {
            store.DeletePrefix(TokenizerRecord.PrefixOf(id));
            throw;
        }
        record.BuildMilliseconds = clock.ElapsedMilliseconds;
        return record;
    }

    /// <summary>Encodes a conversation dataset's kept text again with another tokenizer (a base version's, or a
    /// version's to be evaluated on it), which must hold the markers: token counts of the train and validation
    /// files.</summary>
    public Task<(long Train, long Validation)> EncodeWithAsync(TokenizerRecord dataset, ITokenizer tokenizer,
        string trainKey, string validationKey, Guid id, CancellationToken cancellationToken)
    {
        ChatTemplate.MarkersOf(tokenizer);
        return EncodeSplitsAsync(Read(dataset.TrainTextKey), Read(dataset.ValidationTextKey), tokenizer, id,
            trainKey, validationKey, cancellationToken);
    }

    private async Task<(long Train, long Validation)> EncodeSplitsAsync(
        List<IReadOnlyList<ChatMessage>> train, List<IReadOnlyList<ChatMessage>> validation, ITokenizer tokenizer,
        Guid id, string trainKey, string validationKey, CancellationToken cancellationToken)
    {
        var counts = (Train: await WriteAsync(trainKey, train, tokenizer, id, cancellationToken),
            Validation: await WriteAsync(validationKey, validation, tokenizer, id, cancellationToken));
        DatasetEncoder.RequireEnoughTokens(counts.Train, counts.Validation);
        return counts;
    }

    private List<IReadOnlyList<ChatMessage>> Read(string key)
    {
        using var reader = new StreamReader(store.OpenRead(key), new UTF8Encoding(false, true));
        return ChatLines.Read(reader).ToList();
    }

    /// <summary>What the tokenizer learns from: every message's content, and the template's own text.</summary>
    private static StringReader Text(List<IReadOnlyList<ChatMessage>> conversations) =>
        new(string.Join('\n', ChatTemplate.FixedText.Concat(conversations.SelectMany(c => c.Select(m => m.Content)))));

    private async Task<long> WriteAsync(string key, List<IReadOnlyList<ChatMessage>> conversations,
        ITokenizer tokenizer, Guid tokenizerId, CancellationToken cancellationToken)
    {
        var dtype = TokenFileInfo.DTypeFor(tokenizer.VocabSize);
        long count = 0;
        await store.WriteAsync(key, tokens => store.WriteAsync(key + TokenFileInfo.MaskSuffix, mask =>
        {
            using var writer = new TokenFileWriter(tokens, dtype);
            foreach (var conversation in conversations)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var encoded = ChatTemplate.Encode(tokenizer, conversation);
                writer.Write(encoded.Ids);
                var bytes = encoded.Trained.Select(t => t ? TokenFileInfo.Trained : TokenFileInfo.Context).ToArray();
                bytes[0] = TokenFileInfo.ConversationStart; // always an opening marker, never trained
                mask.Write(bytes);
            }
            writer.Flush();
            count = writer.Count;
            return Task.CompletedTask;
        }));
        var info = new TokenFileInfo(dtype, count, tokenizer.VocabSize, tokenizerId, LossMask: true);
        await store.WriteAsync(key + ".json", s => { info.Write(s); return Task.CompletedTask; });
        return count;
    }
}
