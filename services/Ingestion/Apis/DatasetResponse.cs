using Ingestion.Data;

namespace Ingestion.Apis;

public sealed record TokenizerSummary(string Kind, Guid? Id, int? VocabSize);

public sealed record DatasetResponse(
    Guid Id,
    string Name,
    DatasetState State,
    string? FailureReason,
    string Sha256,
    long Bytes,
    long Characters,
    long Lines,
    double ValidationFraction,
    long TrainBytes,
    long ValidationBytes,
    TokenizerSummary Tokenizer,
    long? TrainTokens,
    long? ValidationTokens,
    Guid? AutoTrainRunId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static DatasetResponse From(Dataset d) => new(
        d.Id, d.Name, d.State, d.FailureReason, d.Sha256, d.Bytes, d.Characters, d.Lines, d.ValidationFraction,
        d.TrainBytes, d.ValidationBytes, new TokenizerSummary(d.TokenizerKind, d.TokenizerId, d.VocabSize),
        d.TrainTokens, d.ValidationTokens, d.AutoTrainRunId, d.CreatedAt, d.UpdatedAt);
}
