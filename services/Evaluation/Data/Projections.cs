using Platform.Contracts;

namespace Evaluation.Data;

/// <summary>A dataset as Ingestion announced it: enough to encode its validation split for a requested
/// evaluation.</summary>
public sealed class KnownDataset
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string Format { get; set; } = DatasetFormats.Text;
    public string ValidationTextKey { get; set; } = "";
    public long ValidationBytes { get; set; }
    public Guid? OwnerId { get; set; }
    public bool Deleted { get; set; }
}

/// <summary>A registered model version as the registry announced it.</summary>
public sealed class KnownModelVersion
{
    public string Name { get; set; } = "";
    public int Version { get; set; }
    public Guid RunId { get; set; }
    public string CheckpointKey { get; set; } = "";
    public string CheckpointSha256 { get; set; } = "";
    public string TokenizerKey { get; set; } = "";
    public string? SourceTokenizerKey { get; set; }
    public string Architecture { get; set; } = Architectures.Gpt;
    /// <summary>The datasets it learned from; null until the registry announced it (a version from before
    /// sharing).</summary>
    public List<Guid>? Lineage { get; set; }
}
