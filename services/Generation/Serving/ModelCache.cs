using System.Collections.Concurrent;
using Generation.Data;
using Microsoft.Extensions.Options;
using Platform.ML;
using Platform.Storage;

namespace Generation.Serving;

public sealed class GenerationOptions
{
    public int TorchThreads { get; set; } = 1;
    public int MaxLoadedModels { get; set; } = 4;
    public int MaxPromptCharacters { get; set; } = 8192;
    public int MaxNewTokens { get; set; } = 2048;
    public double MaxTemperature { get; set; } = 5.0;
    /// <summary>Generations running at once; up to MaxQueuedGenerations more wait their turn, the rest get 429.</summary>
    public int MaxConcurrentGenerations { get; set; } = 2;
    public int MaxQueuedGenerations { get; set; } = 16;
    /// <summary>Completions per request (OpenAI's n).</summary>
    public int MaxCompletionsPerRequest { get; set; } = 8;
}

/// <summary>
/// Loaded models by (name, version). Each is loaded once even when many requests ask for it at the same
/// moment (they share one load task), verified against its registered sha256, and the least recently used
/// is dropped beyond MaxLoadedModels.
/// </summary>
public sealed class ModelCache(ArtifactStore store, IOptions<GenerationOptions> options) : IDisposable
{
    private sealed class Entry(Lazy<Task<LoadedModel>> model)
    {
        public Lazy<Task<LoadedModel>> Model { get; } = model;
        public long LastUsed;
    }

    private readonly ConcurrentDictionary<(string, int), Entry> _entries = new();
    private long _clock;

    public async Task<LoadedModel> GetAsync(ServableModel model)
    {
        var entry = _entries.GetOrAdd((model.Name, model.Version), _ => new Entry(new Lazy<Task<LoadedModel>>(() => Task.Run(() =>
            LoadedModel.Load(store.PathOf(model.CheckpointKey), model.CheckpointSha256, store.PathOf(model.TokenizerKey),
                TorchRuntime.Initialise(options.Value.TorchThreads))))));
        entry.LastUsed = Interlocked.Increment(ref _clock);
        try
        {
            var loaded = await entry.Model.Value;
            EvictBeyondLimit();
            return loaded;
        }
        catch
        {
            // A failed load is not cached: the next request tries again.
            _entries.TryRemove((model.Name, model.Version), out _);
            throw;
        }
    }

    private void EvictBeyondLimit()
    {
        while (_entries.Count > Math.Max(1, options.Value.MaxLoadedModels))
        {
            var oldest = _entries.OrderBy(e => e.Value.LastUsed).First();
            // The evicted model is left to the GC rather than disposed: a request may still be using it.
            _entries.TryRemove(oldest.Key, out _);
        }
    }

    public void Dispose()
    {
        foreach (var entry in _entries.Values)
            if (entry.Model.IsValueCreated && entry.Model.Value.IsCompletedSuccessfully)
                entry.Model.Value.Result.Dispose();
    }
}
