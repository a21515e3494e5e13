using System.Diagnostics.Metrics;

namespace Generation.Serving;

/// <summary>Serving meters: time to first token, inter-token latency, tokens, waiting and running generations,
/// refusals.</summary>
public sealed class GenerationMetrics
{
    public const string Name = "Platform.Generation";

    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _interTokenLatency;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _rejected;

    public GenerationMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(Name);
        _timeToFirstToken = Meter.CreateHistogram<double>("platform.generation.time_to_first_token", "s",
            "From the start of decoding to the first token",
            advice: Platform.ServiceDefaults.HistogramBuckets.TimeToFirstToken);
        _interTokenLatency = Meter.CreateHistogram<double>("platform.generation.inter_token_latency", "s",
            "Between consecutive tokens of one completion",
            advice: Platform.ServiceDefaults.HistogramBuckets.InterTokenLatency);
        _tokens = Meter.CreateCounter<long>("platform.generation.tokens", "{token}", "Tokens generated");
        _rejected = Meter.CreateCounter<long>("platform.generation.rejected", "{request}",
            "Generations refused with 429 (slots and queue full)");
    }

    public Meter Meter { get; }

    public void FirstToken(TimeSpan elapsed) => _timeToFirstToken.Record(elapsed.TotalSeconds);

    public void NextToken(TimeSpan sincePrevious) => _interTokenLatency.Record(sincePrevious.TotalSeconds);

    public void Token() => _tokens.Add(1);

    public void Rejected() => _rejected.Add(1);
}
