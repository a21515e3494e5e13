using System.Diagnostics;
using System.Text;
using Platform.Tokenizers;

namespace Platform.Tokenizers.Tests;

public class BpeTokenizerTests
{
    private static readonly string Demo = DemoCorpus.Text;
    private static readonly Lazy<BpeTokenizer> Trained = new(() =>
        BpeTrainer.Train([new StringReader(Demo)], 2048, specialTokens: ["<|endoftext|>"]));

    [Fact]
    public void The_most_frequent_pair_is_merged_first()
    {
        var tokenizer = BpeTrainer.Train([new StringReader("aaab aaab aaab xy")], 258, minFrequency: 1);
        Assert.Equal(("a", "a"), tokenizer.Merges[0]);
        Assert.Equal(258, tokenizer.VocabSize);
    }

    [Fact]
    public void Random_unicode_round_trips()
    {
        var tokenizer = Trained.Value;
        var random = new Random(42);
        for (var n = 0; n < 300; n++)
        {
            var text = new StringBuilder();
            var length = random.Next(0, 40);
            for (var i = 0; i < length; i++)
            {
                int codePoint;
                do
                    codePoint = random.Next(4) switch
                    {
                        0 => random.Next(0x20, 0x7F),           // ASCII
                        1 => random.Next(0x300, 0x370),         // combining marks
                        2 => random.Next(0x4E00, 0x9FFF),       // CJK
                        _ => random.Next(0x1F300, 0x1FAFF),     // emoji and other astral symbols
                    };
                while (codePoint is >= 0xD800 and <= 0xDFFF);
                text.Append(char.ConvertFromUtf32(codePoint));
            }
            var s = text.ToString();
            Assert.Equal(s, tokenizer.Decode(tokenizer.Encode(s)));
        }
        Assert.Empty(tokenizer.Encode(""));
        Assert.Equal("x", tokenizer.Decode(tokenizer.Encode("x")));
    }

    [Fact]
    public void Unpaired_surrogates_are_refused() =>
        Assert.Throws<ArgumentException>(() => Trained.Value.Encode("ok \uD800 no"));

    [Fact]
    public void Special_tokens_are_single_ids_and_decode_back()
    {
        var tokenizer = Trained.Value;
        var ids = tokenizer.Encode("To be<|endoftext|>or not");
        Assert.Contains(tokenizer.SpecialTokens["<|endoftext|>"], ids);
        Assert.Equal("To be<|endoftext|>or not", tokenizer.Decode(ids));
    }

    [Fact]
    public void Merges_compress_the_corpus_they_were_learned_from()
    {
        var ids = Trained.Value.Encode(Demo[..100_000]);
        Assert.True(ids.Length < 100_000 / 2.5, $"{ids.Length} tokens for 100,000 characters");
        Assert.Equal(Demo[..100_000], Trained.Value.Decode(ids));
    }

    [Fact]
    public void Encoding_chunk_by_chunk_equals_encoding_the_whole_text()
    {
        var whole = Trained.Value.Encode(Demo);
        var chunked = TextChunks.ReadAtSafeBreaks(new StringReader(Demo),
            4096).SelectMany(Trained.Value.Encode).ToArray();
        Assert.Equal(whole, chunked);
    }

    [Fact]
    public void The_same_corpus_gives_a_byte_identical_tokenizer_json_that_loads_back()
    {
        static byte[] Save(ITokenizer t)
        { using var s = new MemoryStream(); t.Save(s); return s.ToArray(); }
        var again = BpeTrainer.Train([new StringReader(Demo)], 2048, specialTokens: ["<|endoftext|>"]);
        var file = Save(Trained.Value);
        Assert.Equal(file, Save(again));

        var loaded = TokenizerFile.Load(new MemoryStream(file));
        Assert.Equal("bpe", loaded.Kind);
        Assert.Equal(2048, loaded.VocabSize);
        var sample = Demo[5_000..9_000] + "<|endoftext|>";
        Assert.Equal(Trained.Value.Encode(sample), loaded.Encode(sample));
        var json = Encoding.UTF8.GetString(file);
        Assert.Contains("\"type\":\"BPE\"", json);
        Assert.Contains("\"pre_tokenizer\":{\"type\":\"ByteLevel\"", json);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(2_000_000)]
    public void Vocabulary_sizes_outside_the_limits_are_refused(int vocabSize) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train([new StringReader("abc")], vocabSize));

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"model\":{\"type\":\"WordLevel\",\"vocab\":{}},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}")]
    [InlineData(
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}")]
    [InlineData("[1,2]")]
    public void Malformed_tokenizer_json_is_refused_with_a_reason(string json) =>
        Assert.Throws<InvalidDataException>(() => TokenizerFile.Load(new MemoryStream(Encoding.UTF8.GetBytes(json))));

    [Fact]
    public void Training_a_vocabulary_of_8192_on_the_demo_corpus_reports_its_time()
    {
        var clock = Stopwatch.StartNew();
        var tokenizer = BpeTrainer.Train([new StringReader(Demo)], 8192);
        clock.Stop();
        // Not a timing assertion (see the benchmark): the vocabulary reaches the size asked for.
        Assert.Equal(8192, tokenizer.VocabSize);
        Console.WriteLine($"BPE 8192 on the demo corpus: {clock.Elapsed.TotalSeconds:F2} s");
    }
}
