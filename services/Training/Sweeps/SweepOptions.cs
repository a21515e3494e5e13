namespace Training.Sweeps;

/// <summary>Configuration section "Sweeps".</summary>
public sealed class SweepOptions
{
    public const string Section = "Sweeps";

    /// <summary>How often each Training instance looks for sweeps whose runs have all ended.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);
}
