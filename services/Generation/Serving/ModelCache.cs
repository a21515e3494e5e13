using System.Collections.Concurrent;
using Generation.Data;
using Microsoft.Extensions.Options;
using Platform.ML;
using Platform.Storage;

namespace Generation.Serving;

public sealed class GenerationOptions
{
    public int TorchThreads { get; set; } = 1;
    /// <summary>Memory the loaded models' weights may use together (default 2 GiB); least recently used go first.</summary>
    public long ModelMemoryBudgetBytes { get; set; } = 2L << 30;
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
/// moment (they share one load task), verified against its registered sha256, and the least recently used are
/// dropped while the weights held exceed ModelMemoryBudgetBytes (the model just used always stays).
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
                TorchRuntime.Initialise(options.Value.TorchThreads), model.SourceTokenizerKey is { } source ? store.PathOf(source) : null)))));
        entry.LastUsed = Interlocked.Increment(ref _clock);
        try
        {
            var loaded = await entry.Model.Value;
            EvictBeyondBudget((model.Name, model.Version));
            return loaded;
        }
        catch
        {
            // A failed load is not cached: the next request tries again.
            _entries.TryRemove((model.Name, model.Version), out _);
            throw;
        }
    }

    /// <summary>Bytes of weights held by the models loaded so far.</summary>
    public long LoadedBytes => _entries.Values
        .Where(e => e.Model.IsValueCreated && e.Model.Value.IsCompletedSuccessfully)
        .Sum(e => WeightBytes(e.Model.Value.Result));

    private static long WeightBytes(LoadedModel loaded) => loaded.Network.parameters().Sum(p => p.numel() * p.ElementSize);

    private void EvictBeyondBudget((string, int) justUsed)
    {
        while (LoadedBytes > options.Value.ModelMemoryBudgetBytes)
        {
            var oldest = _entries.Where(e => !e.Key.Equals(justUsed) && e.Value.Model.IsValueCreated)
                .OrderBy(e => e.Value.LastUsed).Select(e => e.Key).Cast<(string, int)?>().FirstOrDefault();
            if (oldest is null)
                return;
            // The evicted model is left to the GC rather than disposed: a request may still be using it.
            _entries.TryRemove(oldest.Value, out _);
        }
    }

    /// <summary>Forgets a version (deleted from the registry); a request still using it finishes with it.</summary>
    public void Forget(string name, int version) => _entries.TryRemove((name, version), out _);

    public void Dispose()
    {
        foreach (var entry in _entries.Values)
            if (entry.Model.IsValueCreated && entry.Model.Value.IsCompletedSuccessfully)
                entry.Model.Value.Result.Dispose();
    }
}
