using Ingestion.Data;
using Platform.Contracts;
using Platform.ServiceDefaults.Security;

namespace Ingestion.Apis;

public sealed record TokenizerSummary(string Kind, Guid? Id, int? VocabSize);

/// <summary>The kinds of personal data redacted at upload, and how many of each were replaced.</summary>
public sealed record RedactionResponse(IReadOnlyList<string> Kinds, IReadOnlyDictionary<string, long> Replaced)
{
    public static RedactionResponse? From(RedactionSummary? r) => r is null ? null
        : new(r.Kinds, r.Kinds.ToDictionary(k => k, k => k switch
    {
        "email" => r.Email,
        "phone" => r.Phone,
        "ip" => r.Ip,
        "creditCard" => r.CreditCard,
        "cnId" => r.CnId,
        _ => 0,
    }));
}

public sealed record DatasetResponse(
    Guid Id,
    string Name,
    DatasetState State,
    string? FailureReason,
    Owner? Owner,
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
    RedactionResponse? Redaction,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string Format,
    PairSummary? Pairs,
    DatasetSharing Sharing,
    ChatSummary? Chat)
{
    /// <summary>Where the auto-train run is: Training creates it, or records it Failed with the reason it was
    /// refused (a spec it does not accept, a model that would not fit).</summary>
    public string? AutoTrainRun => AutoTrainRunId is { } id ? $"/api/runs/{id}" : null;

    public static DatasetResponse From(Dataset d) => new(
        d.Id, d.Name, d.State, d.FailureReason, d.OwnerOf(),
        d.Sha256, d.Bytes, d.Characters, d.Lines, d.ValidationFraction,
        d.TrainBytes, d.ValidationBytes, new TokenizerSummary(d.TokenizerKind, d.TokenizerId, d.VocabSize),
        d.TrainTokens, d.ValidationTokens, d.AutoTrainRunId, RedactionResponse.From(d.Redaction), d.CreatedAt,
        d.UpdatedAt,
        d.Format, d.Pairs, DatasetSharing.From(d), d.Chat);
}

/// <summary>
/// Whom a dataset is shared with besides its owner and admins: every key, or the listed key ids. Sequence grows with
/// each change (the services' copies of the reach follow it).
/// </summary>
public sealed record DatasetSharing(bool Everyone, IReadOnlyList<Guid> Readers, long Sequence)
{
    public static DatasetSharing From(Dataset d) => new(d.SharedWithEveryone, d.Readers, d.SharingSequence);
}

/// <summary>The body of PUT /api/datasets/{id}/sharing: share with every key, or with the listed key ids.</summary>
public sealed record DatasetSharingRequest(bool? Everyone, IReadOnlyList<Guid>? Readers);

/// <summary>
/// What a deletion removes: the dataset at once, and (with cascade) the runs on it and the model versions learned from
/// it, as their services hear of it.
/// </summary>
public sealed record DatasetDeletionResponse(Guid Id, bool Cascade, IReadOnlyList<DependentRun> Runs,
    IReadOnlyList<DependentVersion> ModelVersions);
