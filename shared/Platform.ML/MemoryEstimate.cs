namespace Platform.ML;

/// <summary>A process's peak memory, in parts, against the limit it runs under.</summary>
public sealed record MemoryEstimate(long PeakBytes, long WeightsAndOptimizerBytes, long ActivationBytes,
    long BaselineBytes, long LimitBytes);
