using Platform.ML;
using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class ExplainerTests
{
    private sealed class Quiet : ITrainingObserver
    {
        public void OnStep(StepReport report) { }
        public void OnEval(EvalReport report) { }
    }

    [Fact]
    public void Attention_rows_sum_to_one_put_nothing_on_the_future_and_log_probabilities_match_the_fused_forward_pass()
    {
        manual_seed(31);
        var config = new GptConfig(VocabSize: 11, BlockSize: 12, NLayer: 2, NHead: 3, NEmbd: 24);
        using var model = new Gpt(config);
        int[] prompt = [1, 4, 2, 9, 3], target = [7, 7, 0];
        var explanation = Explainer.Explain(model, prompt, target);

        Assert.Equal(2, explanation.Attention.Length);
        foreach (var layer in explanation.Attention)
        {
            Assert.Equal(3, layer.Length);
            foreach (var head in layer)
                for (var q = 0; q < 8; q++)
                {
                    Assert.Equal(1.0, head[q].Sum(), 5);
                    Assert.All(head[q][(q + 1)..], w => Assert.Equal(0f, w));
                }
        }

        // Oracle: the fused-kernel forward pass the model trains with, outside the explainer.
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var ids = tensor(prompt.Concat(target).Select(i => (long)i).ToArray()).unsqueeze(0);
        var logProbabilities = nn.functional.log_softmax(model.forward(ids)[0], -1);
        Assert.Equal(7, explanation.Predictions.Count);
        foreach (var p in explanation.Predictions)
        {
            Assert.Equal(logProbabilities[p.Position - 1, p.Id].item<float>(), p.LogProbability, 4);
            Assert.Equal(logProbabilities[p.Position - 1].argmax().item<long>(), p.Top[0].Id);
            Assert.Equal(5, p.Top.Count);
        }
        Assert.Equal("target", explanation.SaliencyOf);
        Assert.Equal(5, explanation.Saliency.Length);
        // No parameter collected a gradient: one model serves every request.
        Assert.All(model.parameters(), p => Assert.True(p.grad is null));
    }

    [Fact]
    public void On_a_model_trained_to_copy_the_token_four_back_attention_and_saliency_peak_there()
    {
        // Chunks of 4 random tokens repeated 4 times: the token after position t is the one at t − 3.
        var random = new Random(5);
        var stream = new List<int>();
        while (stream.Count < 40_000)
        {
            var seed = Enumerable.Range(0, 4).Select(_ => random.Next(8)).ToArray();
            for (var r = 0; r < 4; r++)
                stream.AddRange(seed);
        }
        manual_seed(32);
        var config = new GptConfig(VocabSize: 8, BlockSize: 16, NLayer: 1, NHead: 2, NEmbd: 32);
        using var model = new Gpt(config);
        using var train = new TokenBatches(stream.ToArray(), 16, CPU);
        using var validation = new TokenBatches(stream.Take(2_000).ToArray(), 16, CPU);
        new Trainer(new TrainerOptions
        {
            MaxSteps = 400,
            BatchSize = 32,
            LearningRate = 3e-3,
            MinLearningRate = 3e-4,
            WarmupSteps = 20,
            EvalInterval = 400,
            EvalIters = 2,
            LogInterval = 1000,
            Seed = 9,
        }).Train(model, train, validation, new Quiet(), CancellationToken.None);

        int[] prompt = [5, 2, 7, 1, 5, 2, 7, 1, 5, 2, 7, 1];
        var explanation = Explainer.Explain(model, prompt, []);
        // The next token (position 12) copies position 8; the last query is position 11, three back from it... 11 − 3 =
        // 8.
        Assert.Equal(5, explanation.Next.Id);
        var last = prompt.Length - 1;
        var attention = Enumerable.Range(0, prompt.Length).Select(k =>
            explanation.Attention[0].Average(head => head[last][k])).ToArray();
        Assert.Equal(last - 3, Array.IndexOf(attention, attention.Max()));
        var saliency = explanation.Saliency.Select(Math.Abs).ToArray();
        Assert.True(last - 3 == Array.IndexOf(saliency, saliency.Max()),
            string.Join(", ", explanation.Saliency.Select(v => v.ToString("F3"))) + " | "
            + string.Join(", ", attention.Select(v => v.ToString("F3"))));
    }

    [Fact]
    public void An_encoder_decoder_explains_its_encoder_decoder_and_cross_attention()
    {
        manual_seed(33);
        var specials = new PairSpecialIds(0, 1, 2);
        var config = new EncoderDecoderConfig(10, 10, 1, 2, 2, 16, 8, 8, specials, specials);
        using var model = new EncoderDecoder(config);
        int[] source = [4, 5, 6, 2], target = [7, 8];
        var explanation = Explainer.Explain(model, source, target);

        Assert.Equal(source, explanation.SourceTokens);
        Assert.Equal(4, explanation.Saliency.Length);
        foreach (var head in explanation.EncoderAttention!.Single())
            Assert.All(head, row => Assert.Equal(1.0, row.Sum(), 5));
        foreach (var layer in explanation.Attention)
            foreach (var head in layer)
                for (var q = 0; q < 3; q++)
                {
                    Assert.Equal(1.0, head[q].Sum(), 5);
                    Assert.All(head[q][(q + 1)..], w => Assert.Equal(0f, w));
                }
        foreach (var layer in explanation.CrossAttention!)
            foreach (var head in layer)
                Assert.All(head, row => { Assert.Equal(4, row.Length); Assert.Equal(1.0, row.Sum(), 5); });

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var logits = model.forward(tensor(source.Select(i => (long)i).ToArray()).unsqueeze(0),
            tensor(new long[] { 1, 7, 8 }).unsqueeze(0));
        var logProbabilities = nn.functional.log_softmax(logits[0], -1);
        Assert.Equal(logProbabilities[0, 7].item<float>(), explanation.Predictions[0].LogProbability, 4);
        Assert.Equal(logProbabilities[1, 8].item<float>(), explanation.Predictions[1].LogProbability, 4);
    }
}
