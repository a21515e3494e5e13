using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Platform.ML;

namespace Generation.Serving;

/// <summary>
/// One <see cref="ContinuousBatcher"/> per loaded GPT (a LoRA version's adapter on its shared base counts as a model of
/// its own), made on first use. A batcher touches its model only while a request, which holds a lease on the model,
/// has a sequence in it; an idle batcher's thread ends and frees its cache, and it goes with its model.
/// </summary>
public sealed class ModelBatchers : IDisposable
{
    private readonly ConditionalWeakTable<LoadedModel, ContinuousBatcher> _batchers = new();
    private readonly ContinuousBatchingOptions _options;

    public ModelBatchers(IOptions<GenerationOptions> options, GenerationMetrics metrics)
    {
        var o = options.Value;
        _options = new ContinuousBatchingOptions
        {
            CacheBytes = o.KvCacheBytes,
            MaxSequences = o.MaxBatchSequences,
            MinimumRows = o.MinimumDecodeRows,
            PackedWeights = o.PackedDecoding,
            ProductThreads = o.DecodeProductThreads,
            Int8Weights = o.Int8Decoding,
            PrefixCacheBytes = o.PrefixCacheBytes,
            PrefillChunkTokens = o.PrefillChunkTokens,
            SpeculativeTokens = o.SpeculativeTokens,
            MaxWaiting = o.MaxQueuedGenerations,
        };
        metrics.Meter.CreateObservableGauge("platform.generation.batch.sequences", () =>
            _batchers.Sum(b => b.Value.Active), "{sequence}",
            "Sequences decoding in continuous batches");
        metrics.Meter.CreateObservableGauge("platform.generation.batch.waiting", () =>
            _batchers.Sum(b => b.Value.Waiting), "{sequence}",
            "Sequences waiting for a slot in a continuous batch");
        metrics.Meter.CreateObservableCounter("platform.generation.prefix.reused", () =>
            _batchers.Sum(b => b.Value.PrefixTokensReused), "{token}",
            "Prompt positions restored from the prefix cache instead of prefilled");
        metrics.Meter.CreateObservableCounter("platform.generation.speculative.accepted", () =>
            _batchers.Sum(b => b.Value.DraftedTokensAccepted), "{token}",
            "Tokens drafted by prompt lookup that the sampler picked, each a decoding step saved");
    }

    public ContinuousBatcher For(LoadedModel loaded) =>
        _batchers.GetValue(loaded, l => new ContinuousBatcher(l.Model, l.Adapter, l.Utf8, _options));

    public void Dispose()
    {
        foreach (var (_, batcher) in _batchers)
            batcher.Dispose();
    }
}
