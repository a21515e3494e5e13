using Platform.Contracts;

namespace Evaluation.Data;

/// <summary>A dataset as Ingestion announced it: enough to check a requested evaluation's dataset exists and suits
/// the version (Tokenization encodes it).</summary>
public sealed class KnownDataset
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string Format { get; set; } = DatasetFormats.Text;
    public Guid? OwnerId { get; set; }
    public bool Deleted { get; set; }
    /// <summary>Tokenization has built its tokenizer: it can be encoded with a version's tokenizer now.</summary>
    public bool Tokenized { get; set; }
    /// <summary>Why Tokenization could not tokenize it; null while it has not failed.</summary>
    public string? TokenizationFailure { get; set; }

    public static string NotTokenized(string reason) => $"The dataset could not be tokenized: {reason}";
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
