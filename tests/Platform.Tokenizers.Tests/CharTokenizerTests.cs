using System.Text;
using Platform.Tokenizers;

namespace Platform.Tokenizers.Tests;

public class CharTokenizerTests
{
    private static CharTokenizer TrainOn(string text) => CharTokenizer.Train([new StringReader(text)]);

    [Theory]
    [InlineData("hello world\n")]
    [InlineData("First Citizen:\nBefore we proceed any further, hear me speak.\n")]
    [InlineData("emoji 🙂🚀, CJK 漢字, combining e\u0301, Ω")]
    [InlineData("a")]
    public void Decode_of_encode_is_the_identity(string text)
    {
        var tokenizer = TrainOn(text);
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Fact]
    public void Ids_follow_code_point_order_and_astral_characters_are_one_token()
    {
        var tokenizer = TrainOn("b🙂a\n");
        Assert.Equal(4, tokenizer.VocabSize);
        Assert.Equal(new[] { 0, 1, 2, 3 }, tokenizer.Encode("\nab🙂"));
    }

    [Fact]
    public void Unknown_characters_are_reported_once_each()
    {
        var tokenizer = TrainOn("abc");
        var ex = Assert.Throws<UnknownTokenException>(() => tokenizer.Encode("abzzq"));
        Assert.Equal(new[] { "z", "q" }, ex.Unknown);
    }

    [Fact]
    public void Decoding_an_id_outside_the_vocabulary_throws()
    {
        var tokenizer = TrainOn("ab");
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([0, 2]));
    }

    [Fact]
    public void Saved_tokenizer_loads_back_with_the_same_ids()
    {
        var text = "To be, or not to be: that is the question. 🙂";
        var tokenizer = TrainOn(text);
        using var stream = new MemoryStream();
        tokenizer.Save(stream);
        stream.Position = 0;
        Assert.Contains("\"type\":\"WordLevel\"", Encoding.UTF8.GetString(stream.ToArray()));
        var loaded = TokenizerFile.Load(stream);
        Assert.Equal("char", loaded.Kind);
        Assert.Equal(tokenizer.VocabSize, loaded.VocabSize);
        Assert.Equal(tokenizer.Encode(text), loaded.Encode(text));
    }

    [Fact]
    public void Same_corpus_gives_byte_identical_files()
    {
        static byte[] Save(ITokenizer t)
        { using var s = new MemoryStream(); t.Save(s); return s.ToArray(); }
        Assert.Equal(Save(TrainOn("the quick brown fox")), Save(TrainOn("the quick brown fox")));
    }

    [Fact]
    public void Files_in_the_earlier_char_format_still_load()
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes("{\"kind\":\"char\",\"vocab\":[\"\\n\",\" " +
            "\",\"a\"]}"));
        Assert.Equal(new[] { 2, 1, 0 }, TokenizerFile.Load(stream).Encode("a \n"));
    }

    [Fact]
    public void Unknown_kind_is_rejected_on_load()
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes("{\"kind\":\"nope\"}"));
        Assert.Throws<InvalidDataException>(() => TokenizerFile.Load(stream));
    }
}

public class TokenStreamEncoderTests
{
    [Fact]
    public void An_unencodable_chunk_throws_the_tokenizers_own_exception()
    {
        var tokenizer = CharTokenizer.Train([new StringReader("abc\n")]);
        // Many chunks, so the failing one is encoded in parallel with others.
        var text = string.Concat(Enumerable.Repeat("abc\ncab\n", 5_000)) + "abZ\n";
        var ex = Assert.Throws<UnknownTokenException>(() =>
            TokenStreamEncoder.Encode(tokenizer, new StringReader(text), new MemoryStream()));
        Assert.Contains("'Z'", ex.Message);
    }
}
