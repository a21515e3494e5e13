using System.Text;
using System.Text.Json;
using Ingestion.Corpus;
using Platform.Contracts;
using Platform.Storage;
using Platform.Tokenizers;
using Tokenization.Encoding;

namespace Platform.Services.Tests;

public sealed class PairedDataTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"pairs-{Guid.NewGuid():N}");
    private readonly ArtifactStore _store;

    public PairedDataTests() => _store = new ArtifactStore(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Corpus(string text)
    {
        var path = Path.Combine(_root, $"{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    private List<(string Source, string Target)> ReadSplit(string key) => File.ReadAllLines(_store.PathOf(key))
        .Select(l => JsonDocument.Parse(l).RootElement).Select(e =>
        (e.GetProperty("source").GetString()!, e.GetProperty("target").GetString()!)).ToList();

    [Fact]
    public async Task Pairs_split_by_pairs_not_bytes_deterministically_and_report_their_lengths()
    {
        var lines = Enumerable.Range(1, 100).Select(i =>
            $"{{\"source\":\"s{i}\",\"target\":\"{new string('t', i % 7 + 1)}\"}}");
        var path = Corpus(string.Join('\n', lines) + "\n\n");
        var stats = await PairCorpus.SplitAsync(path, 0.1, _store, "a/train.jsonl", "a/validation.jsonl",
            CancellationToken.None);
        Assert.Equal((100, 90, 10), (stats.Pairs, stats.TrainPairs, stats.ValidationPairs));
        Assert.Equal(7, stats.MaxTargetCharacters);
        Assert.Equal(4, stats.MaxSourceCharacters);                       // "s100"
        Assert.Equal(Enumerable.Range(1, 100).Average(i => i % 7 + 1.0), stats.MeanTargetCharacters, 9);
        var train = ReadSplit("a/train.jsonl");
        var validation = ReadSplit("a/validation.jsonl");
        Assert.Equal(100, train.Concat(validation).Select(p => p.Source).Distinct().Count());
        // Drawn from the whole file, not its tail, and the same every time.
        Assert.Contains(validation, p => int.Parse(p.Source[1..]) <= 50);
        await PairCorpus.SplitAsync(path, 0.1, _store, "b/train.jsonl", "b/validation.jsonl", CancellationToken.None);
        Assert.Equal(validation, ReadSplit("b/validation.jsonl"));
    }

    [Fact]
    public async Task Tab_separated_pairs_keep_any_text_including_quotes_and_chinese()
    {
        var path = Corpus("他说“你好”\tHe said \"hello\"\n我\tI\n");
        await PairCorpus.SplitAsync(path, 0.5, _store, "c/train.jsonl", "c/validation.jsonl", CancellationToken.None);
        var all = ReadSplit("c/train.jsonl").Concat(ReadSplit("c/validation.jsonl")).ToList();
        Assert.Contains(("他说“你好”", "He said \"hello\""), all);
        Assert.Contains(("我", "I"), all);
    }

    [Theory]
    [InlineData("a\tb\nonly one column\n", "line 2: expected 2 tab-separated columns (source, target), found 1")]
    [InlineData("a\tb\n \ty\n", "line 2: the source is empty")]
    [InlineData("{\"source\":\"a\",\"target\":\"b\"}\n[1,2]\n", "line 2: expected a JSON object")]
    [InlineData("{\"source\":\"a\",\"target\":\"b\"}\n", "at least 2 pairs")]
    public async Task Malformed_pairs_are_rejected_naming_the_line_and_the_reason(string text, string expected)
    {
        var ex = await Assert.ThrowsAsync<CorpusRejectedException>(() =>
            PairCorpus.SplitAsync(Corpus(text), 0.1, _store, "d/train.jsonl", "d/validation.jsonl",
            CancellationToken.None));
        Assert.Contains(expected, ex.Message);
        Assert.Equal("file", ex.Field);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Pair_tokenizers_get_the_special_tokens_and_encode_pairs_that_decode_back(bool shared)
    {
        await _store.WriteAsync("e/train.jsonl", s => s.WriteAsync(Encoding.UTF8.GetBytes(
            "{\"source\":\"15 April 2023\",\"target\":\"2023-04-15\"}\n{\"source\":\"1 May " +
            "1999\",\"target\":\"1999-05-01\"}\n")).AsTask());
        await _store.WriteAsync("e/validation.jsonl", s =>
            s.WriteAsync(Encoding.UTF8.GetBytes("{\"source\":\"2 May 2000\",\"target\":\"2000-05-02\"}\n")).AsTask());
        var ingested = new DatasetIngested(Guid.NewGuid(), "dates", "e/train.jsonl", "e/validation.jsonl", 1, 1,
            new TokenizerSpec { Kind = TokenizerKinds.Char, Shared = shared }, null, DateTimeOffset.UtcNow,
            Format: DatasetFormats.Pairs);
        var record = await new PairEncoder(_store).EncodeAsync(ingested, CancellationToken.None);

        Assert.Equal((2L, 1L), (record.TrainPairs!.Value, record.ValidationPairs!.Value));
        Assert.Equal(shared, record.SourceTokenizerKey is null);
        var target = TokenizerFile.Load(_store.PathOf(record.TokenizerKey));
        var source = record.SourceTokenizerKey is { } key ? TokenizerFile.Load(_store.PathOf(key)) : target;
        Assert.Equal(new PairSpecialIds(0, 1, 2), PairSpecials.Of(target));
        Assert.Equal(new PairSpecialIds(0, 1, 2), PairSpecials.Of(source));
        // Per side, the target vocabulary has only the target's characters: no letters.
        if (shared)
            Assert.Equal(5, target.Encode("April").Length);
        else
            Assert.Throws<UnknownTokenException>(() => target.Encode("April"));

        using var pairs = PairFile.Open(_store.PathOf(record.ValidationTokensKey));
        Assert.Equal("2 May 2000", source.Decode(pairs.Source(0)));
        Assert.Equal("2000-05-02", target.Decode(pairs.Target(0)));
        var info = PairFileInfo.Read(_store.PathOf(record.ValidationTokensKey));
        Assert.Equal((1L, source.VocabSize, target.VocabSize),
            (info.Count, info.SourceVocabSize, info.TargetVocabSize));
    }

    [Fact]
    public async Task A_paired_dataset_is_encoded_again_with_another_versions_source_and_target_tokenizers()
    {
        async Task<Tokenization.Data.TokenizerRecord> PairsAsync(string name, string train, string validation)
        {
            await _store.WriteAsync($"{name}/train.jsonl", s => s.WriteAsync(Encoding.UTF8.GetBytes(train)).AsTask());
            await _store.WriteAsync($"{name}/validation.jsonl",
                s => s.WriteAsync(Encoding.UTF8.GetBytes(validation)).AsTask());
            return await new PairEncoder(_store).EncodeAsync(new DatasetIngested(Guid.NewGuid(), name,
                $"{name}/train.jsonl", $"{name}/validation.jsonl", 1, 1,
                new TokenizerSpec { Kind = TokenizerKinds.Char, Shared = false }, null, DateTimeOffset.UtcNow,
                Format: DatasetFormats.Pairs), CancellationToken.None);
        }
        var version = await PairsAsync("v", "{\"source\":\"15 May 2023\",\"target\":\"2023-05-15\"}\n",
            "{\"source\":\"1 May 1999\",\"target\":\"1999-05-01\"}\n");
        var other = await PairsAsync("o", "{\"source\":\"3 May 2001\",\"target\":\"2001-05-03\"}\n",
            "{\"source\":\"5 May 2021\",\"target\":\"2021-05-05\"}\n");

        var encoder = new DatasetEncoder(_store, new PairEncoder(_store), new ChatEncoder(_store));
        var encoding = await encoder.EncodeWithAsync(other, version.TokenizerKey, version.SourceTokenizerKey,
            CancellationToken.None);
        var (source, target) = (TokenizerFile.Load(_store.PathOf(version.SourceTokenizerKey!)),
            TokenizerFile.Load(_store.PathOf(version.TokenizerKey)));
        using var pairs = PairFile.Open(_store.PathOf(encoding.ValidationTokensKey));
        // The oracle: the version's own tokenizers encoding the other dataset's held-out pair.
        Assert.Equal(source.Encode("5 May 2021"), pairs.Source(0));
        Assert.Equal(target.Encode("2021-05-05"), pairs.Target(0));
        Assert.Equal(version.SourceTokenizerKey, encoding.SourceTokenizerKey);
        Assert.Equal(1, PairFileInfo.Read(_store.PathOf(encoding.ValidationTokensKey)).Count);

        other.Format = DatasetFormats.Text;
        await Assert.ThrowsAsync<NotSupportedException>(() => encoder.EncodeWithAsync(other, version.TokenizerKey,
            version.SourceTokenizerKey, CancellationToken.None));
    }
}
