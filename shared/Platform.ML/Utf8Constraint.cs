using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Keeps sampling from a byte-level BPE model to valid UTF-8 (see <see cref="Utf8TokenMask"/>): before each draw the
/// tokens that cannot continue the bytes so far are masked out, and at the last token only tokens that complete the
/// character remain (when there are any). The masks are tensors built once per state and kept for the model's life.
/// </summary>
public sealed class Utf8Constraint(Utf8TokenMask mask) : IDisposable
{
    private readonly Dictionary<(int State, bool Complete, TorchSharp.DeviceType Device), Tensor> _blocked = [];
    private readonly Lock _gate = new();

    public Utf8TokenMask Mask { get; } = mask;

    public static Utf8Constraint? For(ITokenizer tokenizer) => Utf8TokenMask.For(tokenizer) is { } mask
        ? new Utf8Constraint(mask) : null;

    /// <summary>The logits with every token that would break UTF-8 set to −∞.</summary>
    public Tensor Apply(Tensor logits, int state, bool last)
    {
        var blocked = Blocked(state, last && Mask.CanComplete(state), logits.device);
        return logits.masked_fill(blocked, double.NegativeInfinity);
    }

    private Tensor Blocked(int state, bool complete, Device device)
    {
        lock (_gate)
        {
            if (!_blocked.TryGetValue((state, complete, device.type), out var blocked))
            {
                using var allowed = tensor(Mask.Allowed(state, complete), device: device);
                _blocked[(state, complete, device.type)] = blocked = allowed.logical_not().DetachFromDisposeScope();
            }
            return blocked;
        }
    }

    public void Dispose()
    {
        foreach (var t in _blocked.Values)
            t.Dispose();
    }
}
