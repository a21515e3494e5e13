using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Platform.ServiceDefaults.Messaging;

/// <summary>The outbox's trace source (each publish, in its writer's trace) and meters: rows dispatched, parked, and
/// the lag from write to publish.</summary>
public sealed class OutboxTelemetry
{
    public const string Name = "Platform.Outbox";
    public static readonly ActivitySource Source = new(Name);

    private readonly Counter<long> _dispatched;
    private readonly Counter<long> _parked;
    private readonly Histogram<double> _lag;

    public OutboxTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
        _dispatched = meter.CreateCounter<long>("platform.outbox.dispatched", "{message}",
            "Outbox rows published to the broker");
        _parked = meter.CreateCounter<long>("platform.outbox.parked", "{message}",
            "Outbox rows parked after their last failed attempt");
        _lag = meter.CreateHistogram<double>("platform.outbox.lag", "s",
            "Time from writing an outbox row to publishing it", advice: HistogramBuckets.OutboxLag);
    }

    public void Dispatched(TimeSpan lag)
    {
        _dispatched.Add(1);
        _lag.Record(Math.Max(0, lag.TotalSeconds));
    }

    public void Parked() => _parked.Add(1);
}
