using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public sealed class GptEmbeddingTests
{
    /// <summary>
    /// The head is linear (logits = h · wteᵀ), so the mean of the logits over the tokens is the mean hidden state
    /// times wteᵀ: the embedding, projected by the same table, must point the same way as the mean of the logits that
    /// the model's own forward gives.
    /// </summary>
    [Fact]
    public void An_embedding_is_the_normalised_mean_of_the_hidden_states_that_the_forward_pass_reads_its_logits_from()
    {
        manual_seed(5);
        using var model = new Gpt(new GptConfig(VocabSize: 37, BlockSize: 16, NLayer: 2, NHead: 2, NEmbd: 24));
        model.eval();
        int[] tokens = [3, 14, 15, 9, 2, 6, 5];

        var embedding = model.Embed(tokens);

        Assert.Equal(24, embedding.Length);
        Assert.Equal(1.0, Math.Sqrt(embedding.Sum(v => (double)v * v)), 5);
        using var _ = no_grad();
        using var logits = model.forward(tensor(tokens.Select(t => (long)t).ToArray()).unsqueeze(0));
        var meanLogits = logits.mean([1]).squeeze(0).data<float>().ToArray();
        using var table = model.TokenEmbedding.narrow(0, 0, 37);
        var projected = tensor(embedding).matmul(table.t()).data<float>().ToArray();
        Assert.Equal(1.0, Cosine(meanLogits, projected), 5);
    }

    [Fact]
    public void The_same_text_embeds_the_same_and_another_text_otherwise()
    {
        manual_seed(6);
        using var model = new Gpt(new GptConfig(VocabSize: 37, BlockSize: 16, NLayer: 1, NHead: 2, NEmbd: 16));
        model.eval();
        Assert.Equal(model.Embed([1, 2, 3]), model.Embed([1, 2, 3]));
        Assert.True(Cosine(model.Embed([1, 2, 3]), model.Embed([30, 31, 32, 33])) < 0.9999);
        Assert.Throws<ArgumentException>(() => model.Embed([]));
        Assert.Throws<ArgumentException>(() => model.Embed(new int[17]));
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
            (dot, na, nb) = (dot + (double)a[i] * b[i], na + (double)a[i] * a[i], nb + (double)b[i] * b[i]);
        return dot / Math.Sqrt(na * nb);
    }
}
