namespace Platform.Contracts;

/// <summary>
/// What training a run has cost so far, summed over its attempts (a resumed or taken-over run adds each): wall time,
/// CPU and GPU time, tokens and FLOPs (6·N per token), and a price from the configured rates.
/// </summary>
public sealed record RunCost
{
    public double WallSeconds { get; init; }
    public double CpuSeconds { get; init; }
    public double GpuSeconds { get; init; }
    public long Tokens { get; init; }
    public double Flops { get; init; }
    public decimal Price { get; init; }
    public string Currency { get; init; } = "USD";

    public RunCost Add(RunCost attempt) => new()
    {
        WallSeconds = WallSeconds + attempt.WallSeconds,
        CpuSeconds = CpuSeconds + attempt.CpuSeconds,
        GpuSeconds = GpuSeconds + attempt.GpuSeconds,
        Tokens = Tokens + attempt.Tokens,
        Flops = Flops + attempt.Flops,
        Price = Price + attempt.Price,
        Currency = attempt.Currency,
    };
}
