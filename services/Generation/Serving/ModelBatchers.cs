using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Platform.ML;

namespace Generation.Serving;

/// <summary>
/// One <see cref="ContinuousBatcher"/> per loaded GPT (a LoRA version's adapter on its shared base counts as a model of
/// its own) and weight precision (a version served int8 gets its own, with its own packed copy), made on first use. A
/// batcher touches its model only while a request, which holds a lease on the model, has a sequence in it; an idle
/// batcher's thread ends and frees its cache, and it goes with its model.
/// </summary>
public sealed class ModelBatchers : IDisposable
{
    private readonly ConditionalWeakTable<LoadedModel, ContinuousBatcher> _batchers = new();
    private readonly ConditionalWeakTable<LoadedModel, ContinuousBatcher> _int8Batchers = new();
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
            All().Sum(b => b.Active), "{sequence}",
            "Sequences decoding in continuous batches");
        metrics.Meter.CreateObservableGauge("platform.generation.batch.waiting", () =>
            All().Sum(b => b.Waiting), "{sequence}",
            "Sequences waiting for a slot in a continuous batch");
        metrics.Meter.CreateObservableCounter("platform.generation.prefix.reused", () =>
            All().Sum(b => b.PrefixTokensReused), "{token}",
            "Prompt positions restored from the prefix cache instead of prefilled");
        metrics.Meter.CreateObservableCounter("platform.generation.speculative.accepted", () =>
            All().Sum(b => b.DraftedTokensAccepted), "{token}",
            "Tokens drafted by prompt lookup that the sampler picked, each a decoding step saved");
    }

    /// <param name="int8">The version is served with int8 weights (its registry setting), whatever
    /// Generation:Int8Decoding says; where the CPU cannot, it decodes as trained.</param>
    public ContinuousBatcher For(LoadedModel loaded, bool int8 = false) =>
        int8 && !_options.Int8Weights && PackedInt8Linear.IsSupported
            ? _int8Batchers.GetValue(loaded, l => new ContinuousBatcher(l.Model, l.Adapter, l.Utf8,
                _options with { Int8Weights = true }))
            : _batchers.GetValue(loaded, l => new ContinuousBatcher(l.Model, l.Adapter, l.Utf8, _options));

    /// <summary>An encoder-decoder's decoder packed for decoding (kept by the loaded model), or null where
    /// Generation:PackedDecoding is off or the model cannot be packed.</summary>
    public PackedEncoderDecoder? PackedDecoder(LoadedModel loaded) =>
        _options.PackedWeights ? loaded.PackedDecoder : null;

    private IEnumerable<ContinuousBatcher> All() => _batchers.Concat(_int8Batchers).Select(b => b.Value);

    public void Dispose()
    {
        foreach (var batcher in All())
            batcher.Dispose();
    }
}
