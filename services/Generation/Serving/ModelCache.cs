using System.Collections.Concurrent;
using Generation.Data;
using Microsoft.Extensions.Options;
using Platform.ML;
using Platform.Storage;
using static TorchSharp.torch;

namespace Generation.Serving;

/// <summary>
/// Loaded models by checkpoint. Each is loaded once even when many requests ask for it at the same moment (they share
/// one load task) and verified against its registered sha256. A LoRA version loads its base once, as an entry of its
/// own, and holds only its adapter: many adapters share one base, and the base counts once towards the budget. The
/// least recently used are dropped while the weights held exceed ModelMemoryBudgetBytes (the model just used, and any
/// base an adapter still uses, always stay).
/// </summary>
public sealed class ModelCache(ArtifactStore store, IOptions<GenerationOptions> options) : IDisposable
{
    private sealed class Entry(Lazy<Task<LoadedModel>> model)
    {
        public Lazy<Task<LoadedModel>> Model { get; } = model;
        public long LastUsed;
        /// <summary>An adapter's entry: the checkpoint key of the base it runs on.</summary>
        public string? BaseKey;
    }

    private readonly ConcurrentDictionary<string, Entry> _entries = new();
    private long _clock;

    public async Task<LoadedModel> GetAsync(ServableModel model)
    {
        var key = model.CheckpointKey;
        var entry = _entries.GetOrAdd(key, _ => new Entry(new Lazy<Task<LoadedModel>>(() => LoadAsync(model))));
        entry.LastUsed = Interlocked.Increment(ref _clock);
        try
        {
            var loaded = await entry.Model.Value;
            if (entry.BaseKey is { } baseKey && _entries.TryGetValue(baseKey, out var baseEntry))
                baseEntry.LastUsed = entry.LastUsed;
            EvictBeyondBudget(key);
            return loaded;
        }
        catch
        {
            // A failed load is not cached: the next request tries again.
            _entries.TryRemove(key, out _);
            throw;
        }
    }

    private Device Device => TorchRuntime.Initialise(options.Value.TorchThreads);

    private async Task<LoadedModel> LoadAsync(ServableModel model)
    {
        var path = store.PathOf(model.CheckpointKey);
        var tokenizer = store.PathOf(model.TokenizerKey);
        var source = model.SourceTokenizerKey is { } s ? store.PathOf(s) : null;
        if (await Task.Run(() => LoraCheckpoint.ReadHeader(path)) is not { } lora)
            return await Task.Run(() => LoadedModel.Load(path, model.CheckpointSha256, tokenizer, Device, source));

        // The base is an entry of its own (shared by every adapter on it, and by the base's own version when it is served).
        var baseEntry = _entries.GetOrAdd(lora.BaseCheckpointKey, _ => new Entry(new Lazy<Task<LoadedModel>>(() => Task.Run(() =>
            LoadedModel.Load(store.PathOf(lora.BaseCheckpointKey), lora.BaseCheckpointSha256, tokenizer, Device, source)))));
        if (_entries.TryGetValue(model.CheckpointKey, out var self))
            self.BaseKey = lora.BaseCheckpointKey;
        baseEntry.LastUsed = Interlocked.Increment(ref _clock);
        var baseModel = await baseEntry.Model.Value;
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
        ((TorchSharp.torch.nn.Module?)loaded.Adapter ?? loaded.Network).parameters().Sum(p => p.numel() * p.ElementSize);

    private void EvictBeyondBudget(string justUsed)
    {
        while (LoadedBytes > options.Value.ModelMemoryBudgetBytes)
        {
            var inUse = _entries.Values.Select(e => e.BaseKey).Where(k => k is not null).ToHashSet();
            var oldest = _entries.Where(e => e.Key != justUsed && !inUse.Contains(e.Key) && e.Value.Model.IsValueCreated)
                .OrderBy(e => e.Value.LastUsed).Select(e => e.Key).FirstOrDefault();
            if (oldest is null)
                return;
            // The evicted model is left to the GC rather than disposed: a request may still be using it.
            _entries.TryRemove(oldest, out _);
        }
    }

    /// <summary>Forgets a version's checkpoint (deleted from the registry); a request still using it finishes with it.</summary>
    public void Forget(string checkpointKey) => _entries.TryRemove(checkpointKey, out _);

    public void Dispose()
    {
        // Adapters first: they do not own their base, which is disposed with its own entry.
        foreach (var entry in _entries.Values.OrderBy(e => e.BaseKey is null))
            if (entry.Model.IsValueCreated && entry.Model.Value.IsCompletedSuccessfully)
                entry.Model.Value.Result.Dispose();
    }
}
