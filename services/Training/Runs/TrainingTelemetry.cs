using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Training.Runs;

/// <summary>The training worker's trace source and meters: steps, their duration, tokens, throughput and how runs
/// end.</summary>
public sealed class TrainingTelemetry
{
    public const string Name = "Platform.Training";
    public static readonly ActivitySource Source = new(Name);

    private readonly Histogram<double> _stepDuration;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _runsEnded;
    private double _tokensPerSecond;
    private int _training;

    public TrainingTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
        _stepDuration = meter.CreateHistogram<double>("platform.training.step.duration", "s",
            "Wall time of one optimiser step", advice: Platform.ServiceDefaults.HistogramBuckets.TrainingStep);
        _tokens = meter.CreateCounter<long>("platform.training.tokens", "{token}", "Tokens trained on");
        _runsEnded = meter.CreateCounter<long>("platform.training.runs.ended", "{run}",
            "Runs this worker stopped training, by outcome");
        meter.CreateObservableGauge("platform.training.tokens_per_second", () => Volatile.Read(ref _tokensPerSecond),
            "{token}/s",
            "Throughput of the run being trained (0 when idle)");
        meter.CreateObservableGauge("platform.training.active_runs", () => Volatile.Read(ref _training), "{run}",
            "Runs this worker trains now");
    }

    public void Steps(int steps, TimeSpan duration, long tokensPerStep, double tokensPerSecond)
    {
        for (var i = 0; i < steps; i++)
            _stepDuration.Record(duration.TotalSeconds / steps);
        _tokens.Add(tokensPerStep * steps);
        Volatile.Write(ref _tokensPerSecond, tokensPerSecond);
    }

    public void Started() => Interlocked.Increment(ref _training);

    /// <summary>outcome: trained, cancelled, failed, handed-back, lease-lost.</summary>
    public void Ended(string outcome)
    {
        Interlocked.Decrement(ref _training);
        Volatile.Write(ref _tokensPerSecond, 0);
        _runsEnded.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
    }
}
