namespace Generation.Data;

/// <summary>A model version this service can serve, learned from ModelVersionRegistered.</summary>
public sealed class ServableModel
{
    public string Name { get; set; } = "";
    public int Version { get; set; }
    public Guid RunId { get; set; }
    public string CheckpointKey { get; set; } = "";
    public string CheckpointSha256 { get; set; } = "";
    public string TokenizerKey { get; set; } = "";
    /// <summary>"gpt" or "encoder-decoder".</summary>
    public string Architecture { get; set; } = Platform.Contracts.Architectures.Gpt;
    /// <summary>An encoder-decoder trained with one tokenizer per side: the source side's.</summary>
    public string? SourceTokenizerKey { get; set; }
    /// <summary>Name of the key that owns the version (OpenAI's owned_by).</summary>
    public string? OwnerName { get; set; }
    public DateTimeOffset RegisteredAt { get; set; }
    /// <summary>The datasets it learned from; null until the registry announced it (a version from before
    /// sharing).</summary>
    public List<Guid>? Lineage { get; set; }
    /// <summary>The chat template of a version trained on conversations; null when it serves no chat.</summary>
    public string? ChatTemplate { get; set; }
    /// <summary>"int8": decoded with its packed weights quantized; null: as trained.</summary>
    public string? Quantization { get; set; }
    /// <summary>The registry's sequence of the setting above, so that only a newer one replaces it.</summary>
    public long QuantizationSequence { get; set; }
}
