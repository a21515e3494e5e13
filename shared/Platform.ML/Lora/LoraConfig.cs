namespace Platform.ML;

/// <summary>Which of a block's projections get an adapter: the attention's (c_attn, c_proj) and/or the MLP's (c_fc,
/// c_proj).</summary>
public static class LoraTargets
{
    public const string Attention = "attn", Mlp = "mlp";
    public static readonly IReadOnlyList<string> Supported = [Attention, Mlp];
}

/// <summary>
/// Low-rank adaptation (Hu et al., 2021): each targeted projection W gains ΔW = (alpha / rank) · B·A with A (rank × in)
/// and B (out × rank); B starts at zero, so a fresh adapter leaves the base's outputs unchanged. Dropout applies to the
/// adapter's input only.
/// </summary>
public sealed record LoraConfig(int Rank, double Alpha, double Dropout, IReadOnlyList<string> Targets)
{
    public double Scale => Alpha / Rank;

    public bool Adapts(string target) => Targets.Contains(target);

    public bool Equals(LoraConfig? other) =>
        other is not null && Rank == other.Rank && Alpha.Equals(other.Alpha) && Dropout.Equals(other.Dropout)
        && Targets.SequenceEqual(other.Targets);

    public override int GetHashCode() => HashCode.Combine(Rank, Alpha, Dropout, string.Join(",", Targets));
}
