using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Keys and values of every layer for the positions decoded so far, so each new token costs one position of
/// work instead of the whole prefix. The tensors live outside dispose scopes (the cache outlives each step)
/// and are released by <see cref="Dispose"/>.
/// </summary>
public sealed class KvCache(int layers) : IDisposable
{
    private readonly Tensor?[] _keys = new Tensor?[layers];
    private readonly Tensor?[] _values = new Tensor?[layers];

    /// <summary>Positions held (the same in every layer).</summary>
    public long Length => LayerLength(0);

    internal long LayerLength(int layer) => _keys[layer]?.shape[2] ?? 0;

    /// <summary>Adds this step's keys and values (batch, heads, new, head size) and returns all of them.</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        var allKeys = _keys[layer] is { } k ? cat([k, keys], 2) : keys.alias();
        var allValues = _values[layer] is { } v ? cat([v, values], 2) : values.alias();
        _keys[layer]?.Dispose();
        _values[layer]?.Dispose();
        _keys[layer] = allKeys.DetachFromDisposeScope();
        _values[layer] = allValues.DetachFromDisposeScope();
        return (_keys[layer]!, _values[layer]!);
    }

    /// <summary>Row i of every layer becomes the old row index[i] (beam search).</summary>
    internal void Reorder(Tensor index)
    {
        for (var layer = 0; layer < _keys.Length; layer++)
        {
            if (_keys[layer] is not { } k || _values[layer] is not { } v)
                continue;
            _keys[layer] = k.index_select(0, index).DetachFromDisposeScope();
            _values[layer] = v.index_select(0, index).DetachFromDisposeScope();
            k.Dispose();
            v.Dispose();
        }
    }

    public void Clear()
    {
        for (var i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose();
            _values[i]?.Dispose();
            _keys[i] = _values[i] = null;
        }
    }

    public void Dispose() => Clear();
}
