using Platform.Tokenizers;

namespace Platform.Tokenizers.Tests;

public class TextChunksTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void Chunks_rejoin_to_the_text_and_never_split_a_surrogate_pair(int chunkChars)
    {
        var text = string.Concat(Enumerable.Repeat("a🙂b🚀🚀c", 20));
        var chunks = TextChunks.Read(new StringReader(text), chunkChars).ToList();
        Assert.Equal(text, string.Concat(chunks));
        Assert.All(chunks, c =>
        {
            Assert.False(char.IsHighSurrogate(c[^1]), "chunk ends inside a surrogate pair");
            Assert.False(char.IsLowSurrogate(c[0]), "chunk starts inside a surrogate pair");
        });
    }

    [Fact]
    public void Empty_text_gives_no_chunks() => Assert.Empty(TextChunks.Read(new StringReader("")));
}
