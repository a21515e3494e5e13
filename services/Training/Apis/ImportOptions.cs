namespace Training.Apis;

/// <summary>Limits on what users upload to the registry (section "Imports").</summary>
public sealed class ImportOptions
{
    /// <summary>An imported model's weights file, at most (GPT-2 small in fp32 is about 0.5 GB).</summary>
    public long MaxWeightsBytes { get; set; } = 2L << 30;
    /// <summary>A word-vectors file, at most (GloVe 6B 100d is about 350 MB).</summary>
    public long MaxVectorsBytes { get; set; } = 1L << 30;
}
