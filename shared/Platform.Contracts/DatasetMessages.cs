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

/// <summary>
/// A run to create on the dataset: Spec is the upload's autoTrain field as sent (a JSON object, a run as POST
/// /api/runs takes it, without datasetId). Training creates it as that endpoint does, or records it Failed with the
/// reason it refused it. RunId is chosen at upload, so a redelivery cannot create a second run.
/// </summary>
public sealed record AutoTrainRequest(Guid RunId, string Spec);

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
    PairedTokens? Pairs = null,
    string? Format = null)
{
    /// <summary>The dataset's format (an event from before conversations names none: pairs when it has
    /// pairs).</summary>
    public string FormatOrInferred => Format ?? (Pairs is null ? DatasetFormats.Text : DatasetFormats.Pairs);
}

/// <summary>
/// A paired dataset's encoding: the token keys of DatasetTokenized then name pair files, TokenizerKey the target
/// side's tokenizer (both sides' when SourceTokenizerKey is null) and VocabSize its vocabulary.
/// </summary>
public sealed record PairedTokens(string? SourceTokenizerKey, int SourceVocabSize, long TrainPairs,
    long ValidationPairs);

/// <summary>Tokenization could not be done; Reason is shown to the user.</summary>
public sealed record DatasetTokenizationFailed(Guid DatasetId, string Reason, DateTimeOffset FailedAt);

/// <summary>
/// Command: encode a dataset's splits with tokenizers other than its own (a base version's, or another dataset's), so
/// a run can train on it or a version be evaluated on it. A paired dataset's sources are encoded with
/// <paramref name="SourceTokenizerKey"/> (null: the same tokenizer as the targets). Answered by DatasetEncoded or
/// DatasetEncodingFailed; cached per (dataset, tokenizer, source tokenizer).
/// </summary>
public sealed record EncodeDataset(Guid DatasetId, string TokenizerKey, string? SourceTokenizerKey = null);

/// <summary>A dataset's splits encoded with the named tokenizer (the counterpart of DatasetTokenized for a tokenizer
/// not its own).</summary>
public sealed record DatasetEncoded(
    Guid DatasetId,
    string TokenizerKey,
    int VocabSize,
    string TrainTokensKey,
    string ValidationTokensKey,
    long TrainTokens,
    long ValidationTokens,
    long ValidationBytes,
    DateTimeOffset EncodedAt,
    string? SourceTokenizerKey = null);

/// <summary>The dataset could not be encoded with the named tokenizer(s); Reason is shown to the user.</summary>
public sealed record DatasetEncodingFailed(Guid DatasetId, string TokenizerKey, string Reason, DateTimeOffset FailedAt,
    string? SourceTokenizerKey = null);

/// <summary>
/// Who may now read a dataset and what was learned from it: its owner, admins, and <paramref name="Readers"/> (key
/// ids), or every key when <paramref name="Everyone"/>. Published at upload and on every change; Sequence grows with
/// each, so a projection keeps the newest and ignores a redelivered or late older one.
/// </summary>
public sealed record DatasetSharingChanged(
    Guid DatasetId, Guid? OwnerId, bool Everyone, IReadOnlyList<Guid> Readers, long Sequence, DateTimeOffset ChangedAt);
