/// <summary>The nearest-rank percentile of an ascending list (0 for none).</summary>
public static class Percentile
{
    public static double Of(List<double> sorted, int percentile) => sorted.Count == 0
        ? 0
        : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
}
