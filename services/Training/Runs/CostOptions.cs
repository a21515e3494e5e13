namespace Training.Runs;

/// <summary>Prices for a run's cost (section "Cost"): what a core-hour and a GPU-hour cost where the platform
/// runs.</summary>
public sealed class CostOptions
{
    public const string Section = "Cost";

    /// <summary>Price of one CPU core for an hour (a cloud vCPU-hour is of this order).</summary>
    public decimal PricePerCoreHour { get; set; } = 0.04m;
    public decimal PricePerGpuHour { get; set; } = 2.50m;
    public string Currency { get; set; } = "USD";
}
