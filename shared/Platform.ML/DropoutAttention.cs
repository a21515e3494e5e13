using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Platform.ML;

/// <summary>
/// Causal attention with dropout on the attention probabilities, as one autograd node. Written out because
/// LibTorch's fused CPU kernel refuses dropout, and its fallback draws the mask element by element (several times
/// the layer's time without dropout: docs/benchmarks.md, "Dropout") and keeps every intermediate. Backward keeps only
/// q, k, v, the probabilities and the mask's seed; the mask and the dropped probabilities are rebuilt from them
/// when needed: per baby-GPT layer that is 75 MB (bf16) less than autograd would keep (a 25 MB mask and 50 MB of
/// dropped probabilities), for one more mask and one more elementwise pass over the map.
/// </summary>
public sealed class DropoutAttention : SingleTensorFunction<DropoutAttention>
{
    public override string Name => nameof(DropoutAttention);

    /// <summary>softmax(q·kᵀ/√d, causal) with dropout p, times v; q, k, v of shape (batch, heads, time,
    /// headSize).</summary>
    public static Tensor Apply(Tensor q, Tensor k, Tensor v, double p)
    {
        // Without gradients there is nothing to keep (and a kept tensor would wait for the finalizer).
        if (!is_grad_enabled())
        {
            using var probabilities = Probabilities(q, k);
            return SeededDropout.Apply(probabilities, p, SeededDropout.NextSeed()).matmul(v);
        }
        return apply(q, k, v, p);
    }

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var (q, k, v, p) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (double)vars[3]);
        var seed = SeededDropout.NextSeed();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var probabilities = Probabilities(q, k);
        ctx.save_for_backward([q, k, v]);
        // A tensor made here is kept as data (a saved variable does not outlive its scope's disposal); backward
        // disposes it.
        ctx.save_data("state", new SavedState(p, seed, probabilities.DetachFromDisposeScope()));
        return SeededDropout.Apply(probabilities, p, seed).matmul(v).MoveToOuterDisposeScope();
    }

    /// <summary>softmax(q·kᵀ/√d) over the causal positions, in q's type; differentiable when q and k are.</summary>
    public static Tensor Probabilities(Tensor q, Tensor k)
    {
        var time = q.shape[2];
        using var future = ones(time, time, dtype: ScalarType.Bool, device: q.device).triu(1);
        using var scores = q.matmul(k.transpose(-2, -1)).mul_(1.0 / Math.Sqrt(q.shape[^1]));
        return scores.masked_fill_(future, double.NegativeInfinity).softmax(-1);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables();
        var (q, k, v) = (saved[0], saved[1], saved[2]);
        var (p, seed, kept) = (SavedState)ctx.get_data("state");
        using var probabilities = kept;
        // Temporaries as large as the attention map are disposed as soon as they are used: backward's peak is
        // what matters for memory.
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var drop = SeededDropout.Mask(probabilities.shape, p, seed, out var scale);
        Tensor gradV;
        using (var dropped = probabilities.mul(scale).masked_fill_(drop, 0))
            gradV = dropped.transpose(-2, -1).matmul(gradOutput);
        // Through the dropout: the same mask and scale, applied to the gradient.
        var gradScores = gradOutput.matmul(v.transpose(-2, -1)).mul_(scale).masked_fill_(drop, 0);
        // Softmax backward: P ⊙ (dP − Σ dP ⊙ P); masked positions have P = 0 and so get no gradient.
        using (var weighted = gradScores.mul(probabilities))
        using (var sum = weighted.sum(-1, keepdim: true))
            gradScores.sub_(sum);
        gradScores.mul_(probabilities).mul_(1.0 / Math.Sqrt(q.shape[^1]));
        var gradQ = gradScores.matmul(k);
        var gradK = gradScores.transpose(-2, -1).matmul(q);
        return [gradQ.MoveToOuterDisposeScope(), gradK.MoveToOuterDisposeScope(), gradV.MoveToOuterDisposeScope(),
            null!];
    }

    private sealed record SavedState(double P, ulong Seed, Tensor Probabilities);
}
