using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class RecomputeTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Recomputed_activations_give_the_same_loss_and_gradients_dropout_included(bool bf16)
    {
        manual_seed(12);
        using var model = new Gpt(new GptConfig(16, 16, 3, 2, 32, Dropout: 0.2)
        {
            ComputeType = bf16 ? ScalarType.BFloat16 : null,
        });
        model.train();
        using var scope = NewDisposeScope();
        var x = randint(0, 16, [4, 16], dtype: ScalarType.Int64);
        var y = randint(0, 16, [4, 16], dtype: ScalarType.Int64);

        List<Tensor> Gradients(bool recompute, out float loss)
        {
            model.RecomputeActivations = recompute;
            model.zero_grad();
            manual_seed(77);
            var l = Gpt.Loss(model.forward(x), y);
            l.backward();
            loss = l.item<float>();
            return model.parameters().Select(p => p.grad!.clone()).ToList();
        }

        var stored = Gradients(false, out var storedLoss);
        var recomputed = Gradients(true, out var recomputedLoss);
        Assert.Equal(storedLoss, recomputedLoss, 5);
        for (var i = 0; i < stored.Count; i++)
            Assert.True(stored[i].allclose(recomputed[i], rtol: 1e-4, atol: 1e-6), $"gradient {i} differs");
        Assert.True(stored.Sum(g => g.abs().sum().item<float>()) > 0);
    }
}
