using System.Security.Cryptography;
using System.Text;
using Ingestion.Corpus;

namespace Platform.Services.Tests;

public class CorpusTests
{
    private static async Task<(string Text, CorpusStats Stats)> Normalise(byte[] input, long maxBytes = 1 << 20)
    {
        using var output = new MemoryStream();
        var stats = await CorpusNormaliser.NormaliseAsync(new MemoryStream(input), output, maxBytes,
            CancellationToken.None);
        return (Encoding.UTF8.GetString(output.ToArray()), stats);
    }

    [Fact]
    public async Task Line_endings_and_byte_order_mark_are_normalised_and_counted()
    {
        var input = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("one\r\ntwo\rthree 🙂\nfour")).ToArray();
        var (text, stats) = await Normalise(input);
        Assert.Equal("one\ntwo\nthree 🙂\nfour", text);
        Assert.Equal(4, stats.Lines);
        Assert.Equal(text.EnumerateRunes().Count(), stats.Characters);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), stats.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))), stats.Sha256);
    }

    [Fact]
    public async Task A_crlf_split_across_read_buffers_is_still_one_newline()
    {
        var text = new string('a', (1 << 16) - 1) + "\r\nb";
        var (normalised, stats) = await Normalise(Encoding.UTF8.GetBytes(text));
        Assert.Equal(new string('a', (1 << 16) - 1) + "\nb", normalised);
        Assert.Equal(2, stats.Lines);
    }

    [Fact]
    public async Task Invalid_utf8_is_rejected_with_its_position()
    {
        var ex = await Assert.ThrowsAsync<CorpusRejectedException>(() =>
            Normalise([(byte)'o', (byte)'k', 0xC3, 0x28, (byte)'!']));
        Assert.Contains("not valid UTF-8", ex.Message);
        Assert.Equal(400, ex.StatusCode);
    }

    [Fact]
    public async Task An_encoded_surrogate_half_is_rejected()
    {
        // U+D800 written as UTF-8 bytes (CESU-style): not valid UTF-8, so no tokenizer ever sees a lone surrogate.
        var ex = await Assert.ThrowsAsync<CorpusRejectedException>(() =>
            Normalise([(byte)'a', 0xED, 0xA0, 0x80, (byte)'b']));
        Assert.Contains("not valid UTF-8", ex.Message);
    }

    [Fact]
    public async Task A_truncated_multibyte_character_at_the_end_is_rejected() =>
        await Assert.ThrowsAsync<CorpusRejectedException>(() => Normalise([(byte)'a', 0xE2, 0x82]));

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF })]
    public async Task Empty_text_is_rejected(byte[] input)
    {
        var ex = await Assert.ThrowsAsync<CorpusRejectedException>(() => Normalise(input));
        Assert.Contains("empty", ex.Message);
    }

    [Fact]
    public async Task Binary_content_is_rejected() =>
        await Assert.ThrowsAsync<CorpusRejectedException>(() => Normalise([(byte)'a', 0, (byte)'b']));

    [Fact]
    public async Task Uploads_over_the_limit_answer_413()
    {
        var ex = await Assert.ThrowsAsync<CorpusRejectedException>(() =>
            Normalise(new byte[100].Select(_ => (byte)'x').ToArray(), maxBytes: 99));
        Assert.Equal(413, ex.StatusCode);
    }

    [Fact]
    public void The_split_moves_forward_to_the_next_line_start()
    {
        var corpus = Encoding.UTF8.GetBytes("aaaa\nbbbb\ncccc\ndddd\n");
        var split = CorpusSplitter.FindSplit(new MemoryStream(corpus), corpus.Length, 0.3);
        Assert.Equal(15, split);
        Assert.Equal(split, CorpusSplitter.FindSplit(new MemoryStream(corpus), corpus.Length, 0.3));
    }

    [Fact]
    public void Without_a_later_line_the_split_lands_on_a_character_boundary()
    {
        var corpus = Encoding.UTF8.GetBytes("ééééé");
        var split = CorpusSplitter.FindSplit(new MemoryStream(corpus), corpus.Length, 0.3);
        Assert.Equal(8, split);
        Assert.Equal("éééé", Encoding.UTF8.GetString(corpus, 0, (int)split));
    }

    [Fact]
    public void A_one_byte_corpus_cannot_be_split() =>
        Assert.Throws<CorpusRejectedException>(() =>
        CorpusSplitter.FindSplit(new MemoryStream("a"u8.ToArray()), 1, 0.1));
}
