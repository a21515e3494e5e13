using System.Text;
using Evaluation.Data;
using Platform.Contracts;
using Platform.Storage;
using Platform.Tokenizers;

namespace Evaluation.Scoring;

/// <summary>
/// Encodes another dataset's validation split with a version's own tokenizer(s), so the version can be scored on it:
/// text into a token file, pairs into a pair file. Files go under the evaluation's artifact prefix and are removed with
/// <see cref="Discard"/>. Text the tokenizer cannot encode (a character a char tokenizer never saw) fails with the
/// reason.
/// </summary>
public sealed class SplitEncoder(ArtifactStore store)
{
    public static string PrefixOf(Guid evaluationId) => $"evaluations/{evaluationId:N}";

    public async Task<EvaluationTarget> EncodeAsync(Guid evaluationId, KnownModelVersion version, KnownDataset dataset,
        CancellationToken cancellationToken)
    {
        var tokenizer = TokenizerFile.Load(store.PathOf(version.TokenizerKey));
        var target = new EvaluationTarget(version.CheckpointKey, version.CheckpointSha256, version.TokenizerKey,
            version.SourceTokenizerKey, "",
            dataset.ValidationBytes, 0);
        if (dataset.Format == DatasetFormats.Pairs)
        {
            var source = version.SourceTokenizerKey is { } key ? TokenizerFile.Load(store.PathOf(key)) : tokenizer;
            List<(int[], int[])> pairs;
            using (var reader = new StreamReader(store.OpenRead(dataset.ValidationTextKey),
                new UTF8Encoding(false, true)))
                pairs = PairLines.Read(reader).Select(p =>
                    (source.Encode(p.Source), tokenizer.Encode(p.Target))).ToList();
            var pairsKey = $"{PrefixOf(evaluationId)}/validation.pairs";
            (long Source, long Target) counts = default;
            await store.WriteAsync(pairsKey, s => { counts = PairFile.Write(s, pairs); return Task.CompletedTask; });
            return target with { ValidationKey = pairsKey, ValidationTokens = counts.Source + counts.Target };
        }
        var tokensKey = $"{PrefixOf(evaluationId)}/validation.bin";
        long count = 0;
        await store.WriteAsync(tokensKey, output =>
        {
            using var reader = new StreamReader(store.OpenRead(dataset.ValidationTextKey),
                new UTF8Encoding(false, true));
            count = TokenStreamEncoder.Encode(tokenizer, reader, output, cancellationToken);
            return Task.CompletedTask;
        });
        await store.WriteAsync(tokensKey + ".json", s =>
        {
            new TokenFileInfo(TokenFileInfo.DTypeFor(tokenizer.VocabSize), count, tokenizer.VocabSize,
                Guid.Empty).Write(s);
            return Task.CompletedTask;
        });
        return target with { ValidationKey = tokensKey, ValidationTokens = count };
    }

    public void Discard(Guid evaluationId) => store.DeletePrefix(PrefixOf(evaluationId));
}
