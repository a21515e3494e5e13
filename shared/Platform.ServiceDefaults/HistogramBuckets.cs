using System.Diagnostics.Metrics;

namespace Platform.ServiceDefaults;

/// <summary>
/// Bucket bounds, in seconds, for the platform's duration histograms. OpenTelemetry's default bounds (0, 5, 10, 25 …
/// 10,000) are sized for milliseconds: recorded in seconds, nearly every observation would fall in the first bucket
/// and every quantile would read as the same 5 s. Each set spans what its instrument measures, about 2.5× apart, so a
/// quantile interpolated within a bucket is off by less than that factor.
/// </summary>
public static class HistogramBuckets
{
    /// <summary>Time to first token: a prompt's prefill, from a few ms (a cached prefix) to a queue's wait.</summary>
    public static readonly InstrumentAdvice<double> TimeToFirstToken = Seconds(
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30);

    /// <summary>Between tokens of one completion: one decode step, sub-millisecond to a loaded batch's tenth of a
    /// second.</summary>
    public static readonly InstrumentAdvice<double> InterTokenLatency = Seconds(
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1);

    /// <summary>One optimiser step: ms for a tiny model, a minute for a large one on a CPU.</summary>
    public static readonly InstrumentAdvice<double> TrainingStep = Seconds(
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120);

    /// <summary>From an outbox row's write to its publication: ms when the broker is up, minutes while it is
    /// not.</summary>
    public static readonly InstrumentAdvice<double> OutboxLag = Seconds(
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900);

    private static InstrumentAdvice<double> Seconds(params double[] bounds) =>
        new() { HistogramBucketBoundaries = bounds };
}
