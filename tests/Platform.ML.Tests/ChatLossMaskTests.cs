using static TorchSharp.torch;

namespace Platform.ML.Tests;

/// <summary>
/// A conversation's loss covers the assistant's tokens only: the batches put <see cref="TokenBatches.IgnoredTarget"/>
/// wherever the mask leaves a token out, and <see cref="Gpt.Loss"/> averages over the rest.
/// </summary>
public class ChatLossMaskTests
{
    private const int Vocab = 13, Block = 10;

    // user turn (context), assistant reply and its end marker (trained), then the next user turn (context).
    private static readonly int[] Conversation = [1, 4, 5, 6, 2, 7, 8, 9, 3, 1, 10, 11];
    private static readonly bool[] Trained = [false, false, false, false, false, true, true, true, true, false, false,
        false];

    [Fact]
    public void The_masked_loss_is_the_mean_cross_entropy_of_the_trained_targets_computed_by_hand()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var model = new Gpt(new GptConfig(Vocab, Block, NLayer: 1, NHead: 2, NEmbd: 16));
        using var batches = new TokenBatches(Conversation, Block, CPU, Trained);
        var (x, y) = batches.At([0]);

        var loss = Gpt.Loss(model.forward(x), y).item<float>();

        var logits = model.forward(x)[0].data<float>().ToArray();
        double sum = 0;
        var counted = 0;
        for (var t = 0; t < Block; t++)
        {
            if (!Trained[t + 1])
                continue;
            var row = logits.AsSpan(t * Vocab, Vocab).ToArray();
            var max = row.Max();
            var logSumExp = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            sum += logSumExp - row[Conversation[t + 1]];
            counted++;
        }
        Assert.Equal(4, counted);
        Assert.Equal(sum / counted, loss, 4);
        Assert.Equal([-1, -1, -1, -1, 7, 8, 9, 3, -1, -1], y[0].data<long>().ToArray());
    }

    [Fact]
    public void Changing_the_untrained_tokens_after_the_reply_changes_neither_the_loss_nor_the_gradients()
    {
        var (loss, gradients) = LossAndGradients(Conversation);
        var changed = (int[])Conversation.Clone();
        (changed[9], changed[10]) = (12, 0);
        var (otherLoss, otherGradients) = LossAndGradients(changed);
        Assert.Equal(loss, otherLoss);
        Assert.Equal(gradients, otherGradients);

        // The same change to a trained token does move them: the mask, not the model, kept them equal.
        var reply = (int[])Conversation.Clone();
        reply[7] = 12;
        Assert.NotEqual(loss, LossAndGradients(reply).Loss);

        // Unmasked, the changed context tokens are targets too, and the loss moves.
        Assert.NotEqual(LossAndGradients(Conversation, masked: false).Loss,
            LossAndGradients(changed, masked: false).Loss);
    }

    [Fact]
    public void A_batch_with_no_trained_target_has_loss_zero_not_NaN()
    {
        using var scope = NewDisposeScope();
        using var model = new Gpt(new GptConfig(Vocab, Block, NLayer: 1, NHead: 2, NEmbd: 16));
        using var batches = new TokenBatches(Conversation, Block, CPU, new bool[Conversation.Length]);
        var (x, y) = batches.At([0, 1]);
        var loss = Gpt.Loss(model.forward(x), y);
        loss.backward();
        Assert.Equal(0f, loss.item<float>());
        Assert.All(model.parameters(), p => Assert.Equal(0f, p.grad is null ? 0f : p.grad.abs().max().item<float>()));
    }

    private static (float Loss, float[] Gradients) LossAndGradients(int[] ids, bool masked = true)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var model = new Gpt(new GptConfig(Vocab, Block, NLayer: 2, NHead: 2, NEmbd: 16));
        using var batches = new TokenBatches(ids, Block, CPU, masked ? Trained : null);
        var (x, y) = batches.At([0, 1]);
        var loss = Gpt.Loss(model.forward(x), y);
        loss.backward();
        var gradients = model.parameters().SelectMany(p => p.grad!.data<float>().ToArray()).ToArray();
        return (loss.item<float>(), gradients);
    }
}
