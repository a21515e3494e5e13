using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// The key/value cache of many sequences decoded together: per layer one tensor of keys, (slots, heads, head size,
/// block) (or (slots, heads, block, head size), see <see cref="KeysTransposed"/>), and one of values, (slots, heads,
/// block, head size), allocated once, so its memory is fixed whatever the load. A sequence owns one slot (row) and
/// writes its position p at index p. A decoding step reads rows 0..M-1 as one batch (a view, not a copy), which is why
/// the decoder keeps its sequences packed at the low rows (<see cref="Move"/>). Unwritten positions hold zeros, so a
/// masked position never carries a NaN into the attention's weighted sum.
/// </summary>
public sealed class SlotKvCache : IDisposable
{
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;

    /// <param name="keysTransposed">
    /// Keys stored transposed, for LibTorch's q·kᵀ, which then reads them as they lie instead of copying the batch's
    /// keys into that layout at every layer of every step. Packed decoding (<see cref="DecodeAttention"/>) wants them
    /// as the values lie, each position's key contiguous, so that a row's keys stream through in order.
    /// </param>
    public SlotKvCache(GptConfig config, int slots, ScalarType dtype, Device device, bool keysTransposed = true)
    {
        Slots = slots;
        BlockSize = config.BlockSize;
        KeysTransposed = keysTransposed;
        var keys = keysTransposed
            ? new long[] { slots, config.NHead, config.HeadSize, config.BlockSize }
            : new long[] { slots, config.NHead, config.BlockSize, config.HeadSize };
        var values = new long[] { slots, config.NHead, config.BlockSize, config.HeadSize };
        _keys = Enumerable.Range(0, config.NLayer).Select(_ => zeros(keys, dtype, device)).ToArray();
        _values = Enumerable.Range(0, config.NLayer).Select(_ => zeros(values, dtype, device)).ToArray();
    }

    public int Slots { get; }
    /// <summary>Whether keys lie (slots, heads, head size, block) rather than as the values do.</summary>
    public bool KeysTransposed { get; }
    public int BlockSize { get; }

    /// <summary>Bytes one slot takes: keys and values of every layer for a whole block.</summary>
    public static long BytesPerSlot(GptConfig config, ScalarType dtype) =>
        2L * config.NLayer * config.BlockSize * config.NEmbd
        * (dtype is ScalarType.BFloat16 or ScalarType.Float16 ? 2 : 4);

    internal Tensor Keys(int layer) => _keys[layer];
    internal Tensor Values(int layer) => _values[layer];

    /// <summary>Copies slot <paramref name="from"/> into slot <paramref name="to"/> in every layer (packing after a
    /// sequence leaves).</summary>
    public void Move(int from, int to)
    {
        using var _ = no_grad();
        for (var layer = 0; layer < _keys.Length; layer++)
        {
            _keys[layer][to].copy_(_keys[layer][from]);
            _values[layer][to].copy_(_values[layer][from]);
        }
    }

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values))
            t.Dispose();
    }
}
