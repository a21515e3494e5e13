using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Keys and values of prompt prefixes already prefilled, kept for the next request that starts with them (a system
/// prompt, a chat's history), as vLLM's automatic prefix caching keeps them: in blocks of <see cref="BlockTokens"/>
/// positions, each found by its own tokens and the block before it (so a block stands for the whole prefix up to its
/// end, and positions are absolute), evicted least recently used beyond the budget. A block is restored into a slot of
/// a packed <see cref="SlotKvCache"/> by copying, instead of computing it again. Used by one decoding thread.
/// </summary>
public sealed class PrefixCache : IDisposable
{
    /// <summary>Positions per block: the granularity of reuse.</summary>
    public const int BlockTokens = 64;

    private readonly Dictionary<(long Parent, int Hash), List<Entry>> _entries = [];
    // Most recently used last: a lookup touches a chain's blocks in order, so a prefix's later blocks go before its
    // earlier ones, which longer prefixes share.
    private readonly LinkedList<Entry> _recency = [];
    private readonly long[] _shape;
    private long _nextId = 1;

    /// <param name="budgetBytes">Memory the blocks may take; the number of blocks is its whole part.</param>
    public PrefixCache(GptConfig config, long budgetBytes)
    {
        _shape = [config.NLayer, 2, config.NHead, BlockTokens, config.HeadSize];
        Capacity = (int)Math.Min(int.MaxValue, budgetBytes / BytesPerBlock(config));
    }

    /// <summary>Bytes one block takes in fp32: keys and values of every layer for <see cref="BlockTokens"/>
    /// positions.</summary>
    public static long BytesPerBlock(GptConfig config) => 2L * config.NLayer * BlockTokens * config.NEmbd * 4;

    /// <summary>Blocks held at most.</summary>
    public int Capacity { get; }

    /// <summary>Blocks held now.</summary>
    public int Count => _recency.Count;

    /// <summary>
    /// Copies the longest cached prefix of <paramref name="window"/> (whole blocks, and short of its last position,
    /// whose logits a prefill must still compute) into positions 0.. of <paramref name="slot"/>, and returns how many
    /// positions it restored.
    /// </summary>
    public int Restore(IReadOnlyList<int> window, SlotKvCache cache, int slot)
    {
        var restored = 0;
        long parent = 0;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        while (restored + BlockTokens < window.Count && Find(parent, window, restored) is { } entry)
        {
            _recency.Remove(entry.Node);
            _recency.AddLast(entry.Node);
            for (var layer = 0; layer < _shape[0]; layer++)
            {
                cache.Keys(layer)[slot].narrow(1, restored, BlockTokens).copy_(entry.Data[layer, 0]);
                cache.Values(layer)[slot].narrow(1, restored, BlockTokens).copy_(entry.Data[layer, 1]);
            }
            (parent, restored) = (entry.Id, restored + BlockTokens);
        }
        return restored;
    }

    /// <summary>Keeps the whole blocks of <paramref name="window"/>'s first <paramref name="cached"/> positions, which
    /// <paramref name="slot"/> holds, that the cache does not have yet (evicting the least recently used
    /// beyond the capacity).</summary>
    public void Store(IReadOnlyList<int> window, int cached, SlotKvCache cache, int slot)
    {
        long parent = 0;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        for (var start = 0; start + BlockTokens <= cached && Capacity > 0; start += BlockTokens)
        {
            var entry = Find(parent, window, start);
            if (entry is null)
            {
                // An evicted block's memory takes the new one: memory first touched costs far more than the copy.
                var data = Count == Capacity ? Evict(_recency.First!.Value)
                    : empty(_shape, ScalarType.Float32).DetachFromDisposeScope();
                for (var layer = 0; layer < _shape[0]; layer++)
                {
                    data[layer, 0].copy_(cache.Keys(layer)[slot].narrow(1, start, BlockTokens));
                    data[layer, 1].copy_(cache.Values(layer)[slot].narrow(1, start, BlockTokens));
                }
                entry = new Entry(_nextId++, parent, window.Skip(start).Take(BlockTokens).ToArray(), data);
                entry.Node = _recency.AddLast(entry);
                var key = (parent, Hash(window, start));
                if (!_entries.TryGetValue(key, out var bucket))
                    _entries[key] = bucket = [];
                bucket.Add(entry);
            }
            parent = entry.Id;
        }
    }

    /// <summary>The block after <paramref name="parent"/> whose tokens are window[start..start+BlockTokens], compared
    /// token by token (a hash only finds the candidates).</summary>
    private Entry? Find(long parent, IReadOnlyList<int> window, int start)
    {
        if (!_entries.TryGetValue((parent, Hash(window, start)), out var bucket))
            return null;
        foreach (var entry in bucket)
        {
            var same = true;
            for (var i = 0; i < BlockTokens && same; i++)
                same = entry.Tokens[i] == window[start + i];
            if (same)
                return entry;
        }
        return null;
    }

    /// <summary>Forgets a block and returns its memory.</summary>
    private Tensor Evict(Entry entry)
    {
        // Its descendants can no longer be reached from the first block; recency evicts them in their turn.
        _recency.Remove(entry.Node);
        var key = (entry.Parent, Hash(entry.Tokens, 0));
        var bucket = _entries[key];
        bucket.Remove(entry);
        if (bucket.Count == 0)
            _entries.Remove(key);
        return entry.Data;
    }

    private static int Hash(IReadOnlyList<int> tokens, int start)
    {
        var hash = new HashCode();
        for (var i = start; i < start + BlockTokens; i++)
            hash.Add(tokens[i]);
        return hash.ToHashCode();
    }

    public void Dispose()
    {
        foreach (var entry in _recency)
            entry.Data.Dispose();
        _recency.Clear();
        _entries.Clear();
    }

    /// <summary>One block: its id (its children's parent), its parent's id (0: the first block), its tokens and its
    /// keys and values, (layers, 2, heads, block tokens, head size).</summary>
    private sealed class Entry(long id, long parent, int[] tokens, Tensor data)
    {
        public long Id { get; } = id;
        public long Parent { get; } = parent;
        public int[] Tokens { get; } = tokens;
        public Tensor Data { get; } = data;
        public LinkedListNode<Entry> Node { get; set; } = null!;
    }
}
