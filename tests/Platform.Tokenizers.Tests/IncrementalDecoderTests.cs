using Platform.Tokenizers;

namespace Platform.Tokenizers.Tests;

/// <summary>Decoding a token at a time gives exactly what decoding the whole sequence gives (the oracle:
/// ITokenizer.Decode).</summary>
public class IncrementalDecoderTests
{
    // English with punctuation and contractions, and Chinese (three UTF-8 bytes a character, split across byte-level
    // tokens).
    private const string Mixed = "ROMEO: Don't you see? 他说：“今天天气很好。” And then, at last, he wasn't there!\n"
                                 + "机器学习是人工智能的一个分支。 JULIET: O Romeo, Romeo! wherefore art thou Romeo?\n";
    private static readonly string Corpus = string.Concat(Enumerable.Repeat(Mixed, 20)) + DemoCorpus.Text[..20_000];

    public static TheoryData<string> Kinds => ["char", "bpe", "wordpiece"];

    private static ITokenizer Tokenizer(string kind) => kind switch
    {
        "char" => CharTokenizer.Train([new StringReader(Corpus)]),
        "bpe" => BpeTrainer.Train([new StringReader(Corpus)], 400, specialTokens: ["<|endoftext|>"]),
        _ => WordPieceTrainer.Train([new StringReader(Corpus)], 600),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Pieces_concatenate_to_the_whole_decoding_for_encoded_text_and_for_random_tokens(string kind)
    {
        var tokenizer = Tokenizer(kind);
        var random = new Random(7);
        var sequences = new List<int[]> { tokenizer.Encode(Mixed).ToArray() };
        for (var i = 0; i < 200; i++)
            sequences.Add([.. Enumerable.Range(0, random.Next(1, 60)).Select(_ => random.Next(tokenizer.VocabSize))]);

        foreach (var ids in sequences)
        {
            var decoder = new IncrementalDecoder(tokenizer);
            var pieces = ids.Select(decoder.Add).ToList();
            pieces.Add(decoder.Flush());
            var whole = tokenizer.Decode(ids);
            Assert.Equal(whole, string.Concat(pieces));
            Assert.Equal(whole, decoder.Text.ToString());
            // Nothing is emitted that a later token could still change: every piece ends on a complete character.
            Assert.All(pieces.SkipLast(1), p => Assert.False(p.EndsWith('\uFFFD')));
        }
    }

    [Fact]
    public void A_chinese_character_split_across_byte_tokens_comes_out_whole_once_its_last_byte_arrives()
    {
        // bytes only: 好 is three tokens
        var tokenizer = BpeTrainer.Train([new StringReader("abc")], 258, minFrequency: 1);
        var decoder = new IncrementalDecoder(tokenizer);
        var ids = tokenizer.Encode("a好").ToArray();
        Assert.Equal(4, ids.Length);
        Assert.Equal(["a", "", "", "好"], ids.Select(decoder.Add).ToList());
        Assert.Equal("", decoder.Flush());
    }
}
