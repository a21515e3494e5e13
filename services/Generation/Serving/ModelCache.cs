using System.Collections.Concurrent;
using Generation.Data;
using Microsoft.Extensions.Options;
using Platform.ML;
using Platform.Storage;
using static TorchSharp.torch;

namespace Generation.Serving;

/// <summary>A model held for one request: the cache disposes an evicted model only when its last lease has
/// ended.</summary>
public sealed class ModelLease : IDisposable
{
    private readonly Action _release;
    private int _released;

    internal ModelLease(LoadedModel model, Action release) => (Model, _release) = (model, release);

    public LoadedModel Model { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
            _release();
    }
}

/// <summary>
/// Loaded models by checkpoint. Each is loaded once even when many requests ask for it at the same moment (they share
/// one load task) and verified against its registered sha256. A LoRA version loads its base once, as an entry of its
/// own, and holds only its adapter (and a lease on the base): many adapters share one base, and the base counts once
/// towards the budget. The least recently used are dropped while the weights held exceed ModelMemoryBudgetBytes (the
/// model just used, and any base an adapter in the cache runs on, always stay). A dropped model's native memory is
/// freed as soon as no request holds it (see <see cref="ModelLease"/>), not whenever a finalizer runs.
/// </summary>
public sealed class ModelCache(ArtifactStore store, IOptions<GenerationOptions> options) : IDisposable
{
    private sealed class Entry(Func<Task<LoadedModel>> load)
    {
        public Lazy<Task<LoadedModel>> Model { get; } = new(load);
        public long LastUsed;
        /// <summary>An adapter's entry: the checkpoint key of the base it runs on, and its lease on it.</summary>
        public string? BaseKey;
        public ModelLease? BaseLease;
        /// <summary>Requests (and adapters) holding the model now; guarded by the cache's lock.</summary>
        public int Users;
        public bool Evicted;
        public bool Disposed;
    }

    private readonly ConcurrentDictionary<string, Entry> _entries = new();
    private readonly Lock _lock = new();
    private long _clock;

    /// <summary>The version's model, loaded once and held until the lease is disposed.</summary>
    public async Task<ModelLease> GetAsync(ServableModel model)
    {
        var (entry, lease) = Acquire(model.CheckpointKey, () => new Entry(() => LoadAsync(model)));
        try
        {
            var loaded = await entry.Model.Value;
            if (entry.BaseKey is { } baseKey && _entries.TryGetValue(baseKey, out var baseEntry))
                baseEntry.LastUsed = entry.LastUsed;
            EvictBeyondBudget(model.CheckpointKey);
            return new ModelLease(loaded, lease);
        }
        catch
        {
            // A failed load is not cached: the next request tries again.
            lease();
            Remove(model.CheckpointKey, entry);
            throw;
        }
    }

    /// <summary>Finds or adds the entry and counts one more user of it, under the lock so an eviction sees the
    /// count.</summary>
    private (Entry Entry, Action Release) Acquire(string key, Func<Entry> create)
    {
        lock (_lock)
        {
            var entry = _entries.GetOrAdd(key, _ => create());
            entry.Users++;
            entry.LastUsed = Interlocked.Increment(ref _clock);
            return (entry, () => Release(entry));
        }
    }

    private void Release(Entry entry)
    {
        lock (_lock)
        {
            if (--entry.Users > 0 || !entry.Evicted || entry.Disposed)
                return;
            entry.Disposed = true;
        }
        DisposeModel(entry);
    }

    private void Remove(string key, Entry entry)
    {
        lock (_lock)
        {
            if (!_entries.TryRemove(new KeyValuePair<string, Entry>(key, entry)))
                return;
            entry.Evicted = true;
            if (entry.Users > 0 || entry.Disposed)
                return;
            entry.Disposed = true;
        }
        DisposeModel(entry);
    }

    private static void DisposeModel(Entry entry)
    {
        // An adapter's model owns only its adapter; its base is released, and freed with the base's own entry.
        if (entry.Model.IsValueCreated && entry.Model.Value.IsCompletedSuccessfully)
            entry.Model.Value.Result.Dispose();
        entry.BaseLease?.Dispose();
    }

    private Device Device => TorchRuntime.Initialise(options.Value.TorchThreads);

    private async Task<LoadedModel> LoadAsync(ServableModel model)
    {
        var path = store.PathOf(model.CheckpointKey);
        var tokenizer = store.PathOf(model.TokenizerKey);
        var source = model.SourceTokenizerKey is { } s ? store.PathOf(s) : null;
        if (await Task.Run(() => LoraCheckpoint.ReadHeader(path)) is not { } lora)
            return await Task.Run(() => LoadedModel.Load(path, model.CheckpointSha256, tokenizer, Device, source));

        // The base is an entry of its own (shared by every adapter on it, and by the base's own version when it is
        // served), held by this adapter's entry for as long as the adapter is.
        var (baseEntry, baseRelease) = Acquire(lora.BaseCheckpointKey, () => new Entry(() => Task.Run(() =>
            LoadedModel.Load(store.PathOf(lora.BaseCheckpointKey), lora.BaseCheckpointSha256, tokenizer, Device,
            source))));
        LoadedModel baseModel;
        try
        {
            baseModel = await baseEntry.Model.Value;
        }
        catch
        {
            baseRelease();
            Remove(lora.BaseCheckpointKey, baseEntry);
            throw;
        }
        if (_entries.TryGetValue(model.CheckpointKey, out var self))
            (self.BaseKey, self.BaseLease) = (lora.BaseCheckpointKey, new ModelLease(baseModel, baseRelease));
        else
            baseRelease();
        return await Task.Run(() =>
        {
            LoadedModel.Verify(path, model.CheckpointSha256);
            var (_, adapter) = LoraCheckpoint.Load(path, Device);
            return baseModel.WithAdapter(adapter);
        });
    }

    /// <summary>Bytes of weights held by the models loaded so far: a base once, each adapter its own.</summary>
    public long LoadedBytes => _entries.Values
        .Where(e => e.Model.IsValueCreated && e.Model.Value.IsCompletedSuccessfully)
        .Sum(e => WeightBytes(e.Model.Value.Result));

    private static long WeightBytes(LoadedModel loaded) =>
        ((nn.Module?)loaded.Adapter ?? loaded.Network).parameters().Sum(p => p.numel() * p.ElementSize);

    private void EvictBeyondBudget(string justUsed)
    {
        while (LoadedBytes > options.Value.ModelMemoryBudgetBytes)
        {
            var inUse = _entries.Values.Select(e => e.BaseKey).Where(k => k is not null).ToHashSet();
            var oldest = _entries.Where(e => e.Key != justUsed && !inUse.Contains(e.Key)
                && e.Value.Model.IsValueCreated)
                .OrderBy(e => e.Value.LastUsed).FirstOrDefault();
            if (oldest.Key is null)
                return;
            // Freed now if no request holds it, else when the last one finishes.
            Remove(oldest.Key, oldest.Value);
        }
    }

    /// <summary>Forgets a version's checkpoint (deleted from the registry); a request still using it finishes with
    /// it.</summary>
    public void Forget(string checkpointKey)
    {
        if (_entries.TryGetValue(checkpointKey, out var entry))
            Remove(checkpointKey, entry);
    }

    public void Dispose()
    {
        // Adapters first: they hold leases on their bases.
        foreach (var (key, entry) in _entries.OrderBy(e => e.Value.BaseKey is null).ToList())
            Remove(key, entry);
    }
}
