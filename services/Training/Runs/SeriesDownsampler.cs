namespace Training.Runs;

/// <summary>
/// Thins a long series for charts while keeping its shape: the points are cut into buckets and each bucket
/// keeps its lowest and highest value (in step order), so spikes and dips survive; first and last are kept.
/// </summary>
public static class SeriesDownsampler
{
    public static IReadOnlyList<T> Downsample<T>(IReadOnlyList<T> points, int maxPoints, Func<T, double> value)
    {
        if (points.Count <= maxPoints || maxPoints < 4)
            return points;
        var buckets = (maxPoints - 2) / 2;
        var result = new List<T>(maxPoints) { points[0] };
        var inner = points.Count - 2;
        for (var b = 0; b < buckets; b++)
        {
            var start = 1 + (int)((long)b * inner / buckets);
            var end = 1 + (int)((long)(b + 1) * inner / buckets);
            if (start >= end)
                continue;
            int min = start, max = start;
            for (var i = start + 1; i < end; i++)
            {
                if (value(points[i]) < value(points[min]))
                    min = i;
                if (value(points[i]) > value(points[max]))
                    max = i;
            }
            result.Add(points[Math.Min(min, max)]);
            if (min != max)
                result.Add(points[Math.Max(min, max)]);
        }
        result.Add(points[^1]);
        return result;
    }
}
