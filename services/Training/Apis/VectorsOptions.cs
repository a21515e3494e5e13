namespace Training.Apis;

/// <summary>Limits on uploaded word vectors (section "Imports").</summary>
public sealed class VectorsOptions
{
    /// <summary>A word-vectors file, at most (GloVe 6B 100d is about 350 MB).</summary>
    public long MaxVectorsBytes { get; set; } = 1L << 30;
}
