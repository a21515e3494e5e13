using System.Diagnostics;
using System.Text;
using Platform.Contracts;
using Platform.Storage;
using Platform.Tokenizers;
using Platform.Tokenizers.Kinds;
using Tokenization.Data;

namespace Tokenization.Encoding;

/// <summary>
/// Builds the requested tokenizer from a dataset's text and encodes both splits into token files, reading the
/// text in chunks so memory does not grow with the corpus.
/// </summary>
public sealed class DatasetEncoder(ArtifactStore store, PairEncoder pairs, ChatEncoder chats)
{
    public const int MinTokensPerSplit = 2;

    public async Task<TokenizerRecord> EncodeAsync(DatasetIngested dataset, CancellationToken cancellationToken)
    {
        if (dataset.Format == DatasetFormats.Pairs)
            return await pairs.EncodeAsync(dataset, cancellationToken);
        if (dataset.Format == DatasetFormats.Chat)
            return await chats.EncodeAsync(dataset, cancellationToken);
        var clock = Stopwatch.StartNew();
        var id = Guid.NewGuid();
        var prefix = TokenizerRecord.PrefixOf(id);
        var tokenizer = Build(dataset);
        var record = TokenizerRecord.For(id, dataset, tokenizer, "bin");
        record.TokenDType = TokenFileInfo.DTypeFor(tokenizer.VocabSize).ToString().ToLowerInvariant();
        try
        {
            await store.WriteAsync(record.TokenizerKey, s => { tokenizer.Save(s); return Task.CompletedTask; });
            record.TrainTokens = await EncodeSplitAsync(tokenizer, id, dataset.TrainTextKey, record.TrainTokensKey,
                cancellationToken);
            record.ValidationTokens = await EncodeSplitAsync(tokenizer, id, dataset.ValidationTextKey,
                record.ValidationTokensKey, cancellationToken);
            RequireEnoughTokens(record.TrainTokens, record.ValidationTokens);
        }
        catch
        {
            store.DeletePrefix(prefix);
            throw;
        }
        record.BuildMilliseconds = clock.ElapsedMilliseconds;
        return record;
    }

    /// <summary>
    /// Encodes a tokenized dataset's splits again with another tokenizer (a base version's, another dataset's, or a
    /// version's to be evaluated on it): a text dataset into token files, a paired one into pair files (its sources
    /// with <paramref name="sourceTokenizerKey"/>, or the same tokenizer when null). They go under the dataset
    /// tokenizer's prefix so the dataset's deletion removes them too.
    /// </summary>
    public async Task<DatasetEncoding> EncodeWithAsync(TokenizerRecord dataset, string tokenizerKey,
        string? sourceTokenizerKey, CancellationToken cancellationToken)
    {
        var paired = dataset.Format == DatasetFormats.Pairs;
        if (!paired && sourceTokenizerKey is not null)
            throw new NotSupportedException($"A {dataset.Format} dataset is encoded with one tokenizer; a source " +
                "tokenizer is for paired datasets.");
        if (dataset.TrainTextKey.Length == 0)
            throw new NotSupportedException("This dataset was tokenized before its text was kept for re-encoding; " +
                "upload it again.");
        foreach (var key in new[] { tokenizerKey, sourceTokenizerKey }.OfType<string>())
            if (!store.Exists(key))
                throw new InvalidDataException($"Tokenizer {key} does not exist.");
        var clock = Stopwatch.StartNew();
        var tokenizer = TokenizerFile.Load(store.PathOf(tokenizerKey));
        var id = Guid.NewGuid();
        var name = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(tokenizerKey + "\n" + sourceTokenizerKey)))[..16];
        var prefix = $"{TokenizerRecord.PrefixOf(dataset.Id)}/encodings/{name}";
        var extension = paired ? "pairs" : "bin";
        var encoding = new DatasetEncoding
        {
            Id = id,
            DatasetId = dataset.DatasetId,
            TokenizerKey = tokenizerKey,
            SourceTokenizerKey = sourceTokenizerKey ?? "",
            VocabSize = tokenizer.VocabSize,
            TrainTokensKey = $"{prefix}/train.{extension}",
            ValidationTokensKey = $"{prefix}/validation.{extension}",
            ValidationBytes = dataset.ValidationBytes,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        try
        {
            if (paired)
            {
                var source = sourceTokenizerKey is null ? tokenizer
                    : TokenizerFile.Load(store.PathOf(sourceTokenizerKey));
                (encoding.TrainTokens, encoding.ValidationTokens) = await pairs.EncodeWithAsync(dataset, source,
                    tokenizer, encoding.TrainTokensKey, encoding.ValidationTokensKey, id, cancellationToken);
            }
            else if (dataset.Format == DatasetFormats.Chat)
                (encoding.TrainTokens, encoding.ValidationTokens) = await chats.EncodeWithAsync(dataset, tokenizer,
                    encoding.TrainTokensKey, encoding.ValidationTokensKey, id, cancellationToken);
            else
            {
                encoding.TrainTokens = await EncodeSplitAsync(tokenizer, id, dataset.TrainTextKey,
                    encoding.TrainTokensKey, cancellationToken);
                encoding.ValidationTokens = await EncodeSplitAsync(tokenizer, id, dataset.ValidationTextKey,
                    encoding.ValidationTokensKey, cancellationToken);
                RequireEnoughTokens(encoding.TrainTokens, encoding.ValidationTokens);
            }
        }
        catch
        {
            store.DeletePrefix(prefix);
            throw;
        }
        encoding.BuildMilliseconds = clock.ElapsedMilliseconds;
        return encoding;
    }

    /// <summary>A split needs an input token and its target at the very least.</summary>
    public static void RequireEnoughTokens(long train, long validation)
    {
        if (train < MinTokensPerSplit || validation < MinTokensPerSplit)
            throw new InvalidDataException($"The splits encode to {train} train and {validation} validation tokens; " +
                $"each needs at least {MinTokensPerSplit}.");
    }

    private ITokenizer Build(DatasetIngested dataset) =>
        TokenizerBuilder.Build(store, dataset.Tokenizer, new TokenizerCorpus(() => Reader(dataset.TrainTextKey),
            () => Reader(dataset.ValidationTextKey), RequiredSpecials: []));

    private StreamReader Reader(string key) => new(store.OpenRead(key), new UTF8Encoding(false, true));

    private async Task<long> EncodeSplitAsync(ITokenizer tokenizer, Guid tokenizerId, string textKey, string tokensKey,
        CancellationToken cancellationToken)
    {
        var dtype = TokenFileInfo.DTypeFor(tokenizer.VocabSize);
        long count = 0;
        await store.WriteAsync(tokensKey, output =>
        {
            using var reader = Reader(textKey);
            count = TokenStreamEncoder.Encode(tokenizer, reader, output, cancellationToken);
            return Task.CompletedTask;
        });
        var info = new TokenFileInfo(dtype, count, tokenizer.VocabSize, tokenizerId);
        await store.WriteAsync(tokensKey + ".json", s => { info.Write(s); return Task.CompletedTask; });
        return count;
    }
}
