using System.Text;
using Platform.Tokenizers;

namespace Platform.Tokenizers.Tests;

public class Utf8TokenMaskTests
{
    // A byte-level BPE over the 256 bytes alone: token id b is the single byte b, so every byte pattern can be walked.
    private static readonly BpeTokenizer Bytes = BpeTrainer.Train([new StringReader("ab")], 256, specialTokens: []);
    private static readonly Utf8TokenMask Mask = Utf8TokenMask.For(Bytes)!;

    private static int Id(byte b) => Bytes.Vocabulary.ToList().IndexOf(ByteLevel.ByteToChar[b].ToString());

    private static int Walk(params byte[] bytes) =>
        bytes.Aggregate(Utf8TokenMask.Complete, (state, b) => state == Utf8TokenMask.Invalid ? state
        : Mask.Next(state, Id(b)));

    [Fact]
    public void Valid_utf8_walks_back_to_complete_and_prefixes_stay_open()
    {
        foreach (var text in new[] { "a", "é", "我", "😀", "我喜欢 GPU 🚀" })
            Assert.Equal(Utf8TokenMask.Complete, Walk(Encoding.UTF8.GetBytes(text)));
        var ideograph = Encoding.UTF8.GetBytes("我");
        Assert.NotEqual(Utf8TokenMask.Invalid, Walk(ideograph[..1]));
        Assert.NotEqual(Utf8TokenMask.Complete, Walk(ideograph[..2]));
    }

    [Theory]
    [InlineData(new byte[] { 0x80 })]             // a continuation byte with nothing to continue
    [InlineData(new byte[] { 0xC0, 0x80 })]       // overlong encoding of NUL
    [InlineData(new byte[] { 0xE0, 0x80 })]       // overlong three-byte form
    [InlineData(new byte[] { 0xED, 0xA0 })]       // a UTF-16 surrogate
    [InlineData(new byte[] { 0xF4, 0x90 })]       // past U+10FFFF
    [InlineData(new byte[] { 0xE6, 0x41 })]       // a character cut short by ASCII
    [InlineData(new byte[] { 0xFF })]
    public void Sequences_that_are_not_utf8_are_refused(byte[] bytes)
    {
        Assert.Equal(Utf8TokenMask.Invalid, Walk(bytes));
    }

    [Fact]
    public void Multi_byte_tokens_are_judged_by_all_their_bytes_and_special_tokens_only_between_characters()
    {
        var tokenizer = BpeTrainer.Train([new StringReader(string.Concat(Enumerable.Repeat("我喜欢大模型。", 50)))], 300,
            specialTokens: ["<|endoftext|>"]);
        var mask = Utf8TokenMask.For(tokenizer)!;
        var whole = tokenizer.Encode("我");
        Assert.Single(whole);
        Assert.Equal(Utf8TokenMask.Complete, mask.Next(Utf8TokenMask.Complete, whole[0]));
        var special = tokenizer.SpecialTokenId("<|endoftext|>")!.Value;
        Assert.Equal(Utf8TokenMask.Complete, mask.Next(Utf8TokenMask.Complete, special));
        var open = mask.After([Id(0xE6)]);
        Assert.Equal(Utf8TokenMask.Invalid, mask.Next(open, special));
        Assert.Equal(Utf8TokenMask.Invalid, mask.Next(open, whole[0]));
        Assert.Null(Utf8TokenMask.For(CharTokenizer.Train([new StringReader("abc")])));
    }
}
