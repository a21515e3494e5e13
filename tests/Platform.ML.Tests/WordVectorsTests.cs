using Platform.ML;
using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class WordVectorsTests
{
    [Fact]
    public void Covered_rows_equal_the_vectors_at_step_zero_and_coverage_is_the_covered_share()
    {
        // word2vec's header line, then vectors for 'a', 'b' and 'Z', and a word the vocabulary lacks.
        var vectors = WordVectors.Read(new StringReader("3 4\na 0.1 0.2 0.3 0.4\nb -1 0 1 2\nZ 5 5 5 5\nnot-in-vocab 1 1 1 1\n"));
        Assert.Equal(4, vectors.Dimension);
        var tokenizer = CharTokenizer.Train([new StringReader("abcZ")]);
        manual_seed(51);
        using var model = new Gpt(new GptConfig(tokenizer.VocabSize, 8, 1, 1, 4));
        var coverage = vectors.InitialiseEmbedding(model, tokenizer);

        Assert.Equal(3.0 / 4, coverage);
        var table = model.TokenEmbedding;
        Assert.Equal(new[] { 0.1f, 0.2f, 0.3f, 0.4f }, table[tokenizer.Encode("a")[0]].data<float>().ToArray());
        Assert.Equal(new[] { -1f, 0f, 1f, 2f }, table[tokenizer.Encode("b")[0]].data<float>().ToArray());
        Assert.Equal(new[] { 5f, 5f, 5f, 5f }, table[tokenizer.Encode("Z")[0]].data<float>().ToArray());
        // 'c' has no vector: it keeps nanoGPT's N(0, 0.02) initialisation.
        Assert.True(table[tokenizer.Encode("c")[0]].abs().max().item<float>() < 0.2f);
    }

    [Fact]
    public void A_different_dimension_goes_through_the_documented_seeded_projection()
    {
        // GloVe's format (no header), 3 values, into a model 8 wide: row = vector · P, P = N(0, 1/8) from seed 1301.
        var vectors = WordVectors.Read(new StringReader("a 1 2 3\nB 0.5 0 -0.5\n"));
        var tokenizer = CharTokenizer.Train([new StringReader("ab")]);
        using var model = new Gpt(new GptConfig(tokenizer.VocabSize, 8, 1, 2, 8));
        // "B" matches neither "b" nor its lower-cased form: half the vocabulary is covered.
        Assert.Equal(0.5, vectors.InitialiseEmbedding(model, tokenizer));

        using var projection = WordVectors.Projection(3, 8);
        Assert.Equal(projection.data<float>().ToArray(), WordVectors.Projection(3, 8).data<float>().ToArray());
        var expected = tensor(new float[] { 1, 2, 3 }).unsqueeze(0).matmul(projection)[0];
        Assert.True(model.TokenEmbedding[tokenizer.Encode("a")[0]].allclose(expected, rtol: 0, atol: 1e-6));
        Assert.True(model.TokenEmbedding[tokenizer.Encode("b")[0]].abs().max().item<float>() < 0.2f);
    }

    [Fact]
    public void Ragged_or_non_numeric_lines_are_named()
    {
        var ragged = Assert.Throws<InvalidDataException>(() => WordVectors.Read(new StringReader("a 1 2\nb 1 2 3\n")));
        Assert.Equal("line 2: 3 values, but the first vector has 2.", ragged.Message);
        var text = Assert.Throws<InvalidDataException>(() => WordVectors.Read(new StringReader("a 1 x\n")));
        Assert.Equal("line 1: value 2 is not a finite number.", text.Message);
    }
}
