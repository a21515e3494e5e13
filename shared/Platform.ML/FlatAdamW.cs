using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// AdamW's step over one flat buffer per parameter group, instead of TorchSharp's loop of small operations per
/// parameter tensor: the group's parameters, gradients and both moments become views into four buffers, so zeroing,
/// clipping and the update are a few passes however many tensors the model has. The arithmetic is TorchSharp's AdamW's,
/// element for element, and the state stays in the wrapped <see cref="AdamW"/> (learning rates, step counts, moments,
/// now views), so a checkpoint saves and restores it through that optimizer exactly as before.
/// </summary>
public sealed class FlatAdamW : IDisposable
{
    private readonly List<FlatGroup> _groups = [];

    public AdamW Optimizer { get; }

    /// <summary>
    /// Moves the optimizer's parameters, their gradients and its moments into flat buffers, keeping their values. Every
    /// parameter of a group must share one type and device; AMSGrad and maximize are not supported.
    /// </summary>
    public FlatAdamW(AdamW optimizer)
    {
        Optimizer = optimizer;
        using var _ = no_grad();
        var states = optimizer.state_dict().State.Cast<AdamW.State>().ToList();
        var next = 0;
        foreach (var group in optimizer.ParamGroups.Cast<AdamW.ParamGroup>())
        {
            var parameters = group.Parameters.ToList();
            var groupStates = states.GetRange(next, parameters.Count);
            next += parameters.Count;
            if (group.Options.amsgrad == true || group.Options.maximize == true)
                throw new ArgumentException("AMSGrad and maximize are not supported.", nameof(optimizer));
            if (parameters.Count == 0)
                continue;
            var (type, device) = (parameters[0].dtype, parameters[0].device);
            if (parameters.Any(p => p.dtype != type || p.device_type != device.type || p.device_index != device.index))
                throw new ArgumentException("A parameter group's tensors must share one type and device.",
                    nameof(optimizer));
            var total = parameters.Sum(p => p.numel());
            var flat = new FlatGroup(group, groupStates,
                empty(total, dtype: type, device: device), zeros(total, dtype: type, device: device),
                empty(total, dtype: type, device: device), empty(total, dtype: type, device: device));
            long offset = 0;
            for (var i = 0; i < parameters.Count; i++)
            {
                var (parameter, state) = (parameters[i], groupStates[i]);
                long count = parameter.numel();
                Tensor Slot(Tensor buffer) =>
                    buffer.narrow(0, offset, count).view(parameter.shape).DetachFromDisposeScope();
                using (var slot = Slot(flat.Parameters))
                {
                    slot.copy_(parameter);
                    parameter.set_(slot);
                }
                using (var gradient = parameter.grad)
                using (var slot = Slot(flat.Gradients))
                {
                    if (gradient is not null)
                        slot.copy_(gradient);
                    parameter.grad = slot;
                }
                (state.exp_avg, state.exp_avg_sq) = (Moved(state.exp_avg, Slot(flat.ExpAvg)),
                    Moved(state.exp_avg_sq, Slot(flat.ExpAvgSq)));
                offset += count;
            }
            _groups.Add(flat);
        }
    }

    private static Tensor Moved(Tensor from, Tensor to)
    {
        to.copy_(from);
        from.Dispose();
        return to;
    }

    /// <summary>Zeroes every gradient (they stay views of the buffers; backward accumulates into them in
    /// place).</summary>
    public void ZeroGrad()
    {
        foreach (var group in _groups)
            group.Gradients.zero_();
    }

    /// <summary>
    /// Scales the gradients so that their global L2 norm is at most <paramref name="maxNorm"/>, as PyTorch's
    /// clip_grad_norm_ does (coefficient maxNorm / (norm + 1e-6), never above 1); returns the norm before clipping.
    /// </summary>
    public double ClipGradNorm(double maxNorm)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var norm = stack(_groups.Select(g => g.Gradients.norm()).ToArray()).norm().item<float>();
        var coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1)
            foreach (var group in _groups)
                group.Gradients.mul_(coefficient);
        return norm;
    }

    /// <summary>One AdamW update of every parameter, at each group's current learning rate.</summary>
    public void Step()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var group in _groups)
        {
            var options = group.Source.Options;
            var (lr, beta1, beta2) = (options.LearningRate!.Value, options.beta1!.Value, options.beta2!.Value);
            var step = group.States[0].step + 1;
            if (group.States.Any(state => state.step + 1 != step))
                throw new InvalidOperationException("A parameter group's tensors have taken different numbers of " +
                    "steps.");
            foreach (var state in group.States)
                state.step = step;
            // TorchSharp's AdamW.step, on the whole group at once.
            group.Parameters.mul_(1 - lr * options.weight_decay!.Value);
            var biasCorrection1 = 1 - Math.Pow(beta1, step);
            var biasCorrection2 = 1 - Math.Pow(beta2, step);
            group.ExpAvg.mul_(beta1).add_(group.Gradients, alpha: 1 - beta1);
            group.ExpAvgSq.mul_(beta2).addcmul_(group.Gradients, group.Gradients, value: 1 - beta2);
            var denominator = (group.ExpAvgSq.sqrt() / Math.Sqrt(biasCorrection2)).add_(options.eps!.Value);
            group.Parameters.addcdiv_(group.ExpAvg, denominator, value: -lr / biasCorrection1);
        }
    }

    public void Dispose()
    {
        foreach (var group in _groups)
            group.Dispose();
    }

    private sealed record FlatGroup(AdamW.ParamGroup Source, List<AdamW.State> States, Tensor Parameters,
        Tensor Gradients,
        Tensor ExpAvg, Tensor ExpAvgSq) : IDisposable
    {
        public void Dispose()
        {
            Parameters.Dispose();
            Gradients.Dispose();
            ExpAvg.Dispose();
            ExpAvgSq.Dispose();
        }
    }
}
