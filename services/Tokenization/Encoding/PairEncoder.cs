using System.Diagnostics;
using System.Text;
using Platform.Contracts;
using Platform.Storage;
using Platform.Tokenizers;
using Platform.Tokenizers.Kinds;
using Tokenization.Data;

namespace Tokenization.Encoding;

/// <summary>
/// Builds the tokenizer of a paired dataset (one over both sides, or one per side when tokenizer.shared is false),
/// with &lt;pad&gt;, &lt;s&gt; and &lt;/s&gt; added as special tokens, and encodes both splits into pair files sorted
/// by length (see <see cref="PairFile"/>). An uploaded tokenizer must already hold the three special tokens.
/// </summary>
public sealed class PairEncoder(ArtifactStore store)
{
    public async Task<TokenizerRecord> EncodeAsync(DatasetIngested dataset, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var train = ReadPairs(dataset.TrainTextKey);
        var validation = ReadPairs(dataset.ValidationTextKey);
        var spec = dataset.Tokenizer;
        ITokenizer target, source;
        if (spec.Shared || spec.Kind == TokenizerKinds.Uploaded)
            target = source = Build(spec, train.SelectMany(p => new[] { p.Source, p.Target }),
                validation.SelectMany(p => new[] { p.Source, p.Target }));
        else
        {
            source = Build(spec, train.Select(p => p.Source), validation.Select(p => p.Source));
            target = Build(spec, train.Select(p => p.Target), validation.Select(p => p.Target));
        }
        // A tokenizer without the pair tokens (an uploaded one) is refused here, with the reason, before anything is
        // written.
        var specials = (Source: PairSpecials.Of(source), Target: PairSpecials.Of(target));

        var id = Guid.NewGuid();
        var prefix = TokenizerRecord.PrefixOf(id);
        var record = TokenizerRecord.For(id, dataset, target, "pairs");
        record.Format = DatasetFormats.Pairs;
        record.SourceTokenizerKey = ReferenceEquals(source, target) ? null : $"{prefix}/source-tokenizer.json";
        record.SourceVocabSize = source.VocabSize;
        record.TokenDType = "uint32";
        (record.TrainPairs, record.ValidationPairs) = (train.Count, validation.Count);
        try
        {
            await store.WriteAsync(record.TokenizerKey, s => { target.Save(s); return Task.CompletedTask; });
            if (record.SourceTokenizerKey is { } sourceKey)
                await store.WriteAsync(sourceKey, s => { source.Save(s); return Task.CompletedTask; });
            record.TrainTokens = await WriteAsync(record.TrainTokensKey, train, source, target, specials, id,
                cancellationToken);
            record.ValidationTokens = await WriteAsync(record.ValidationTokensKey, validation, source, target, specials,
                id, cancellationToken);
        }
        catch
        {
            store.DeletePrefix(prefix);
            throw;
        }
        record.BuildMilliseconds = clock.ElapsedMilliseconds;
        return record;
    }

    /// <summary>Encodes a paired dataset's kept text again with other tokenizers (a version's, to be evaluated on
    /// it): token counts of the train and validation pair files.</summary>
    public async Task<(long Train, long Validation)> EncodeWithAsync(TokenizerRecord dataset, ITokenizer source,
        ITokenizer target, string trainKey, string validationKey, Guid id, CancellationToken cancellationToken)
    {
        var specials = (Source: PairSpecials.Of(source), Target: PairSpecials.Of(target));
        var train = await WriteAsync(trainKey, ReadPairs(dataset.TrainTextKey), source, target, specials, id,
            cancellationToken);
        var validation = await WriteAsync(validationKey, ReadPairs(dataset.ValidationTextKey), source, target,
            specials, id, cancellationToken);
        return (train, validation);
    }

    private List<(string Source, string Target)> ReadPairs(string key)
    {
        using var reader = new StreamReader(store.OpenRead(key), new UTF8Encoding(false, true));
        return PairLines.Read(reader).ToList();
    }

    private ITokenizer Build(TokenizerSpec spec, IEnumerable<string> train, IEnumerable<string> validation)
    {
        TextReader Text(IEnumerable<string> lines) => new StringReader(string.Join('\n', lines));
        return TokenizerBuilder.Build(store, spec,
            new TokenizerCorpus(() => Text(train), () => Text(validation), PairSpecialIds.Tokens));
    }

    private async Task<long> WriteAsync(string key, List<(string Source, string Target)> pairs, ITokenizer source,
        ITokenizer target,
        (PairSpecialIds Source, PairSpecialIds Target) specials, Guid tokenizerId, CancellationToken cancellationToken)
    {
        var encoded = pairs.Select(p =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            return (source.Encode(p.Source), target.Encode(p.Target));
        }).ToList();
        var empty = encoded.FindIndex(p => p.Item1.Length == 0 || p.Item2.Length == 0);
        if (empty >= 0)
            throw new InvalidDataException($"Pair {empty + 1} of {Path.GetFileNameWithoutExtension(key)} encodes to " +
                $"no tokens on one side.");
        (long Source, long Target) counts = default;
        await store.WriteAsync(key, s => { counts = PairFile.Write(s, encoded); return Task.CompletedTask; });
        var info = new PairFileInfo(encoded.Count, counts.Source, counts.Target, source.VocabSize, target.VocabSize,
            specials.Source, specials.Target, tokenizerId);
        await store.WriteAsync(key + ".json", s => { info.Write(s); return Task.CompletedTask; });
        return counts.Source + counts.Target;
    }
}
