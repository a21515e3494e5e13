using Platform.Contracts;

namespace Ingestion.Data;

public enum DatasetState { Uploaded, Ingested, Tokenized, Failed }

public sealed class Dataset
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public DatasetState State { get; set; }
    public string? FailureReason { get; set; }
    public string Sha256 { get; set; } = "";
    public long Bytes { get; set; }
    public long Characters { get; set; }
    public long Lines { get; set; }
    public double ValidationFraction { get; set; }
    public long TrainBytes { get; set; }
    public long ValidationBytes { get; set; }
    public string CorpusKey { get; set; } = "";
    public string TrainKey { get; set; } = "";
    public string ValidationKey { get; set; } = "";
    public string TokenizerKind { get; set; } = TokenizerKinds.Char;
    public Guid? TokenizerId { get; set; }
    public int? VocabSize { get; set; }
    public long? TrainTokens { get; set; }
    public long? ValidationTokens { get; set; }
    public Guid? AutoTrainRunId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
