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
        var vectors = WordVectors.Read(new StringReader("3 4\na 0.1 0.2 0.3 0.4\nb -1 0 1 2\nZ 5 5 5 5\nnot-in-vocab " +
            "1 1 1 1\n"));
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

/// <summary>
/// Word-vector files are uploaded by users: a malformed or hostile one is refused with a reason (InvalidDataException,
/// which the API answers with a 400 naming "file") before memory is taken for it; one that reads is consistent.
/// </summary>
public class HostileWordVectorsTests
{
    private const string Valid = "3 4\na 0.1 0.2 0.3 0.4\nb -1 0 1 2\nZ 5 5 5 5\n";

    private static readonly string[] Tokens =
        ["nan", "inf", "-inf", "1e999", "abc", "", " ", "\t", "0x10", "1,5", "--1", "9999999999999999999999", "\u00a0",
            "\n"];

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(0, 220).Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_mutated_file_is_refused_with_a_reason_or_reads_consistently(int seed)
    {
        var random = new Random(seed);
        var text = Valid;
        for (var i = 0; i < 1 + random.Next(4); i++)
        {
            var at = random.Next(text.Length + 1);
            text = (seed % 4) switch
            {
                0 => text[..at],
                1 => text[..at] + Tokens[random.Next(Tokens.Length)] + text[at..],
                2 => text[..at] + new string((char)random.Next(32, 0x3000), 1 + random.Next(3)) + text[Math
                    .Min(text.Length, at + 1)..],
                _ => text + $"w{i}" + string.Concat(Enumerable.Range(0, random.Next(0, 9)).Select(v
                    => $" {v}.5")) + "\n",
            };
        }
        try
        {
            var vectors = WordVectors.Read(new StringReader(text));
            Assert.InRange(vectors.Dimension, 1, WordVectors.MaxDimension);
            Assert.All(vectors.Vectors.Values, v =>
            {
                Assert.Equal(vectors.Dimension, v.Length);
                Assert.All(v, x => Assert.True(float.IsFinite(x)));
            });
        }
        catch (InvalidDataException ex)
        {
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        }
    }

    [Fact]
    public void Hostile_sizes_are_refused_before_they_are_held()
    {
        // A line that never ends: refused once it passes the line bound, not read into one string.
        var endless = new string('9', WordVectors.MaxLineCharacters + 10);
        Assert.Contains("longer than", Assert.Throws<InvalidDataException>(() => WordVectors
            .Read(new StringReader("w " + endless))).Message);
        // A vector wider than any embedding.
        var wide = "w" + string.Concat(Enumerable.Repeat(" 1", WordVectors.MaxDimension + 1));
        Assert.Contains("at most", Assert.Throws<InvalidDataException>(() => WordVectors
            .Read(new StringReader(wide))).Message);
        // More values in all than the bound (made small here: the bound is checked per line, before the vector is
        // kept).
        var many = string.Concat(Enumerable.Range(0, 50).Select(i => $"w{i} 1 2 3 4\n"));
        Assert.Contains("more than 100", Assert.Throws<InvalidDataException>(() =>
            WordVectors.Read(new StringReader(many), maxValues: 100)).Message);
        Assert.Equal(25, WordVectors.Read(new StringReader(string.Concat(Enumerable.Range(0, 25).Select(i
            => $"w{i} 1 2 3 4\n"))),
            maxValues: 100).Vectors.Count);
    }
}
