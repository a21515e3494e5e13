namespace Training.Registry;

/// <summary>Limits on imported models (section "Imports").</summary>
public sealed class ModelImportOptions
{
    /// <summary>An imported model's weights file, at most (GPT-2 small in fp32 is about 0.5 GB).</summary>
    public long MaxWeightsBytes { get; set; } = 2L << 30;
}
