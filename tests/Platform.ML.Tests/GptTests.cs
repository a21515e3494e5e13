using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class GptTests
{
    private static readonly GptConfig Tiny = new(VocabSize: 11, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 16);

    [Fact]
    public void Logits_cover_the_real_vocabulary_per_position_not_the_padded_embedding_rows()
    {
        manual_seed(0);
        using var model = new Gpt(Tiny);
        using var scope = NewDisposeScope();
        Assert.Equal(new long[] { 64, 16 }, model.get_parameter("wte.weight")!.shape);
        var logits = model.forward(randint(0, 11, [3, 8], dtype: ScalarType.Int64));
        Assert.Equal(new long[] { 3, 8, 11 }, logits.shape);
    }

    [Fact]
    public void A_position_never_attends_to_a_later_one()
    {
        // Change only the tokens after position 3: logits at positions 0..3 must not move at all.
        manual_seed(1);
        using var model = new Gpt(Tiny);
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var a = tensor(new long[] { 1, 2, 3, 4, 5, 6, 7, 8 }).unsqueeze(0);
        var b = tensor(new long[] { 1, 2, 3, 4, 10, 0, 9, 1 }).unsqueeze(0);
        var la = model.forward(a);
        var lb = model.forward(b);
        Assert.True(la[0, ..4].allclose(lb[0, ..4], rtol: 0, atol: 1e-6),
            "earlier positions changed when later tokens changed");
        Assert.False(la[0, 4..].allclose(lb[0, 4..], rtol: 0, atol: 1e-3),
            "later positions should see their own new tokens");
    }

    [Fact]
    public void With_dropout_in_training_a_position_still_never_attends_to_a_later_one()
    {
        // The written-out attention (dropout on) has its own mask: the same check, with the same dropout masks.
        using var model = new Gpt(Tiny with { Dropout = 0.3 });
        model.train();
        using var scope = NewDisposeScope();
        var a = tensor(new long[] { 1, 2, 3, 4, 5, 6, 7, 8 }).unsqueeze(0);
        var b = tensor(new long[] { 1, 2, 3, 4, 10, 0, 9, 1 }).unsqueeze(0);
        manual_seed(8);
        var la = model.forward(a);
        manual_seed(8);
        var lb = model.forward(b);
        Assert.True(la[0, ..4].allclose(lb[0, ..4], rtol: 0, atol: 1e-6),
            "earlier positions changed when later tokens changed");
        Assert.False(la[0, 4..].allclose(lb[0, 4..], rtol: 0, atol: 1e-3));
    }

    [Fact]
    public void Attention_written_out_for_dropout_matches_the_fused_kernel()
    {
        manual_seed(6);
        // A dropout below 2⁻¹⁷ rounds to dropping nothing but still takes the written-out path in training.
        using var attention = new CausalSelfAttention(Tiny with { Dropout = 1e-9 });
        using var scope = NewDisposeScope();
        var x = randn(3, 8, 16);
        attention.train();
        var written = attention.forward(x);
        attention.eval();
        var fused = attention.forward(x);
        Assert.True(written.allclose(fused, rtol: 1e-4, atol: 1e-5));
    }

    [Theory]
    [InlineData(ScalarType.Float32, 1e-5)]
    [InlineData(ScalarType.BFloat16, 2e-2)]
    public void Training_attention_without_dropout_matches_the_fused_kernel_forward_and_backward(ScalarType compute,
        double tolerance)
    {
        // Training on the CPU writes attention out where the fused kernel is slower (bf16; fp32 up to 256 positions);
        // outside training the fused kernel runs. Both must give the same logits and the same gradients.
        manual_seed(7);
        using var model = new Gpt(Tiny with { ComputeType = compute == ScalarType.Float32 ? null : compute });
        using var scope = NewDisposeScope();
        var idx = randint(0, 11, [3, 8], dtype: ScalarType.Int64);
        var gradLogits = randn(3, 8, 11);

        (Tensor Logits, Tensor[] Grads) Pass(bool training)
        {
            model.train(training);
            model.zero_grad();
            var logits = model.forward(idx);
            logits.backward([gradLogits]);
            return (logits.detach(), model.parameters().Select(p => p.grad!.clone()).ToArray());
        }
        var (written, writtenGrads) = Pass(training: true);
        var (fused, fusedGrads) = Pass(training: false);

        Assert.True(written.allclose(fused, rtol: tolerance, atol: tolerance), "logits differ");
        for (var i = 0; i < writtenGrads.Length; i++)
            Assert.True(writtenGrads[i].allclose(fusedGrads[i], rtol: tolerance, atol: tolerance),
                $"gradient {i} differs");
    }

    [Fact]
    public void Loss_of_uniform_logits_is_log_vocab()
    {
        // With all-zero logits every class has probability 1/V, so cross-entropy is ln V whatever the targets.
        using var scope = NewDisposeScope();
        var logits = zeros(2, 3, 7);
        var targets = tensor(new long[] { 0, 1, 2, 3, 4, 6 }).view(2, 3);
        Assert.Equal(Math.Log(7), Gpt.Loss(logits, targets).item<float>(), 5);
    }

    [Fact]
    public void Loss_of_a_known_batch_matches_the_hand_computed_value()
    {
        // One position, logits [ln 1, ln 2, ln 5] → softmax [1/8, 2/8, 5/8]; target 2 → loss = -ln(5/8).
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 0f, (float)Math.Log(2), (float)Math.Log(5) }).view(1, 1, 3);
        var targets = tensor(new long[] { 2 }).view(1, 1);
        Assert.Equal(-Math.Log(5.0 / 8.0), Gpt.Loss(logits, targets).item<float>(), 5);
    }

    [Fact]
    public void Fresh_model_loss_is_close_to_log_vocab()
    {
        manual_seed(2);
        using var model = new Gpt(Tiny);
        model.eval();
        using var scope = NewDisposeScope();
        var x = randint(0, 11, [4, 8], dtype: ScalarType.Int64);
        var loss = Gpt.Loss(model.forward(x), x).item<float>();
        Assert.InRange(loss, Math.Log(11) - 0.3, Math.Log(11) + 0.3);
    }

    [Fact]
    public void Checkpoint_round_trip_keeps_config_and_outputs()
    {
        manual_seed(3);
        using var model = new Gpt(Tiny);
        model.eval();
        using var stream = new MemoryStream();
        Checkpoint.Save(model, stream);
        stream.Position = 0;
        using var loaded = Checkpoint.Load(stream);
        Assert.Equal(Tiny, loaded.Config);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = tensor(new long[] { 1, 5, 9 }).unsqueeze(0);
        Assert.True(model.forward(x).allclose(loaded.forward(x)));
    }
}
