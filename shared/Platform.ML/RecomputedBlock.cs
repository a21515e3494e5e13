using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Platform.ML;

/// <summary>
/// Activation recomputation for one block (what torch.utils.checkpoint does): the forward pass keeps only the
/// block's input, and the backward pass runs the block again with gradients on to rebuild what it needs. Memory
/// for activations drops from every layer's to one layer's, for about a third more compute. The RNG state is
/// saved and restored so the recomputed dropout masks are exactly the forward pass's.
/// </summary>
public sealed class RecomputedBlock : SingleTensorFunction<RecomputedBlock>
{
    public override string Name => nameof(RecomputedBlock);

    public static Tensor Apply(Block block, Tensor input, LoraAdapter? adapter = null) =>
        adapter is null ? apply(input, block) : apply(input, block, adapter);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var (input, block, adapter) = ((Tensor)vars[0], (Block)vars[1], vars.Length > 2 ? (LoraAdapter)vars[2] : null);
        ctx.save_for_backward([input]);
        ctx.save_data("block", block);
        ctx.save_data("adapter", (object?)adapter ?? "none");
        // Plain bytes: the context keeps tensors only through save_for_backward.
        using (var rng = get_rng_state())
            ctx.save_data("rng", rng.data<byte>().ToArray());
        // A nested scope frees the block's intermediates now rather than at the end of the training step.
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return block.Forward(input, adapter).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables()[0];
        var block = (Block)ctx.get_data("block");
        var adapter = ctx.get_data("adapter") as LoraAdapter;
        var current = get_rng_state();
        using (var rng = tensor((byte[])ctx.get_data("rng"), dtype: ScalarType.Byte))
            set_rng_state(rng);
        try
        {
            using var scope = NewDisposeScope();
            using var _ = enable_grad(true);
            var input = saved.detach().requires_grad_(true);
            var output = block.Forward(input, adapter);
            // The block's (or the adapter's) parameter gradients accumulate here; the input's is returned.
            autograd.backward([output], [gradOutput]);
            // One gradient per forward argument: the block and the adapter themselves have none.
            return adapter is null ? [input.grad!.MoveToOuterDisposeScope(), null!]
                : [input.grad!.MoveToOuterDisposeScope(), null!, null!];
        }
        finally
        {
            set_rng_state(current);
        }
    }
}
