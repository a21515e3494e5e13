namespace Tokenization.Data;

/// <summary>A tokenizer built for a dataset, and the token files of the dataset's two splits.</summary>
public sealed class TokenizerRecord
{
    public Guid Id { get; set; }
    public Guid DatasetId { get; set; }
    public string DatasetName { get; set; } = "";
    public string Kind { get; set; } = "";
    public int VocabSize { get; set; }
    public string TokenizerKey { get; set; } = "";
    public string TrainTokensKey { get; set; } = "";
    public string ValidationTokensKey { get; set; } = "";
    public string TokenDType { get; set; } = "";
    public long TrainTokens { get; set; }
    public long ValidationTokens { get; set; }
    public long TrainBytes { get; set; }
    public long ValidationBytes { get; set; }
    public long BuildMilliseconds { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
