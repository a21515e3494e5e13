namespace Platform.Contracts;

/// <summary>An upload was validated, normalised, split and stored.</summary>
public sealed record DatasetIngested(
    Guid DatasetId,
    string Name,
    string TrainTextKey,
    string ValidationTextKey,
    long TrainBytes,
    long ValidationBytes,
    TokenizerSpec Tokenizer,
    AutoTrainRequest? AutoTrain,
    DateTimeOffset IngestedAt,
    Owner? Owner = null,
    string Format = DatasetFormats.Text);

/// <summary>A run to start as soon as the dataset is tokenized; RunId is chosen at upload so redelivery cannot create a second run.</summary>
public sealed record AutoTrainRequest(Guid RunId, RunSpec Spec);

/// <summary>A tokenizer was built for the dataset and both splits were encoded to token files.</summary>
public sealed record DatasetTokenized(
    Guid DatasetId,
    Guid TokenizerId,
    string TokenizerKind,
    int VocabSize,
    string TokenizerKey,
    string TrainTokensKey,
    string ValidationTokensKey,
    long TrainTokens,
    long ValidationTokens,
    long ValidationBytes,
    DateTimeOffset TokenizedAt,
    PairedTokens? Pairs = null);

/// <summary>
/// A paired dataset's encoding: the token keys of DatasetTokenized then name pair files, TokenizerKey the target
/// side's tokenizer (both sides' when SourceTokenizerKey is null) and VocabSize its vocabulary.
/// </summary>
public sealed record PairedTokens(string? SourceTokenizerKey, int SourceVocabSize, long TrainPairs, long ValidationPairs);

/// <summary>Tokenization could not be done; Reason is shown to the user.</summary>
public sealed record DatasetTokenizationFailed(Guid DatasetId, string Reason, DateTimeOffset FailedAt);
