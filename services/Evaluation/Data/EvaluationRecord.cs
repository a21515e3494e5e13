using Platform.ServiceDefaults.Http;
using Platform.Contracts;

namespace Evaluation.Data;

/// <summary>Every evaluation, a run's own or a requested one, goes Pending → Running → Completed | Failed, scored by
/// the one <see cref="Scoring.EvaluationWorker"/>. A requested one waits in Encoding while Tokenization encodes its
/// dataset with the version's tokenizer, then is Pending again.</summary>
public enum EvaluationState { Completed, Failed, Pending, Running, Encoding }

public sealed class EvaluationRecord : IListed
{
    public Guid Id { get; set; }
    public Guid RunId { get; set; }
    public string ModelName { get; set; } = "";
    public EvaluationState State { get; set; }
    public string? FailureReason { get; set; }
    [Platform.ServiceDefaults.Security.ArtifactKey]
    public string CheckpointKey { get; set; } = "";
    /// <summary>Requested evaluations (POST /api/evaluations): the version and the dataset asked for. Null for a run's
    /// own.</summary>
    public int? ModelVersion { get; set; }
    public Guid? DatasetId { get; set; }
    public Guid? RequestedBy { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    /// <summary>What it is scored on: a run's own, as TrainingCompleted told it; a requested one, the version's
    /// checkpoint and tokenizers, and its dataset's validation split once Tokenization has encoded it with
    /// them.</summary>
    public string? CheckpointSha256 { get; set; }
    [Platform.ServiceDefaults.Security.ArtifactKey]
    public string? TokenizerKey { get; set; }
    [Platform.ServiceDefaults.Security.ArtifactKey]
    public string? SourceTokenizerKey { get; set; }
    [Platform.ServiceDefaults.Security.ArtifactKey]
    public string? ValidationKey { get; set; }
    public long? ValidationBytes { get; set; }
    public long? ValidationTokens { get; set; }
    /// <summary>The trace of whoever queued it (W3C traceparent), which its scoring and announcement
    /// continue.</summary>
    public string? TraceParent { get; set; }
    /// <summary>The figures, one document of named metrics (see Platform.ML's EvaluationMetrics); null until
    /// completed.</summary>
    public EvaluationFigures? Figures { get; set; }
    /// <summary>"gpt" or "encoder-decoder".</summary>
    public string Architecture { get; set; } = Architectures.Gpt;
    public string? Sample { get; set; }
    public long DurationMilliseconds { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>
    /// The datasets its figures and sample come from (the model's lineage and the dataset judged on): who may read
    /// them all may read it. Null until known (an evaluation from before sharing): admins only.
    /// </summary>
    public List<Guid>? Lineage { get; set; }

    /// <summary>A run's own evaluation, waiting for the worker.</summary>
    public static EvaluationRecord OfRun(TrainingCompleted trained) => new()
    {
        Id = Guid.NewGuid(),
        RunId = trained.RunId,
        ModelName = trained.ModelName,
        CheckpointKey = trained.CheckpointKey,
        CheckpointSha256 = trained.CheckpointSha256,
        TokenizerKey = trained.TokenizerKey,
        SourceTokenizerKey = trained.SourceTokenizerKey,
        ValidationKey = trained.ValidationTokensKey,
        ValidationBytes = trained.ValidationBytes,
        ValidationTokens = trained.ValidationTokens,
        Architecture = trained.Architecture,
        State = EvaluationState.Pending,
        CreatedAt = DateTimeOffset.UtcNow,
        Lineage = trained.Lineage?.ToList(),
        TraceParent = System.Diagnostics.Activity.Current?.Id,
    };

    /// <summary>A run's own evaluation (no dataset was asked for): announced to the registry and Training.</summary>
    public bool IsRunsOwn => DatasetId is null;

    /// <summary>Tokenization is still to encode its dataset with the version's tokenizer (a requested evaluation
    /// scored on another dataset).</summary>
    public bool NeedsEncoding => !IsRunsOwn && ValidationKey is null;

    /// <summary>What it scores: its checkpoint on a held-out split encoded with the checkpoint's tokenizer.</summary>
    public Scoring.EvaluationTarget Target() =>
        new(CheckpointKey, CheckpointSha256!, TokenizerKey!, SourceTokenizerKey, ValidationKey!, ValidationBytes ?? 0,
            ValidationTokens ?? 0);

    public static EvaluationRecord Requested(KnownModelVersion version, KnownDataset dataset, Guid? by,
        DateTimeOffset at) => new()
        {
            Id = Guid.NewGuid(),
            RunId = version.RunId,
            ModelName = version.Name,
            ModelVersion = version.Version,
            DatasetId = dataset.Id,
            CheckpointKey = version.CheckpointKey,
            Architecture = version.Architecture,
            RequestedBy = by,
            State = EvaluationState.Pending,
            TraceParent = System.Diagnostics.Activity.Current?.Id,
            CreatedAt = at,
            Lineage = version.Lineage is { } lineage ? [.. lineage, dataset.Id] : null,
        };

    /// <summary>Waits for its dataset encoded with the version's tokenizer(s): see <see cref="EncodingRequest"/>.
    /// </summary>
    public void AwaitEncoding(KnownModelVersion version)
    {
        (CheckpointSha256, TokenizerKey, SourceTokenizerKey) = (version.CheckpointSha256, version.TokenizerKey,
            version.SourceTokenizerKey);
        State = EvaluationState.Encoding;
    }

    /// <summary>What it asks Tokenization for, once its dataset is tokenized.</summary>
    public EncodeDataset EncodingRequest() => new(DatasetId!.Value, TokenizerKey!, SourceTokenizerKey);

    /// <summary>The dataset's encoding arrived: the evaluation is ready to be scored.</summary>
    public void Encoded(DatasetEncoded m)
    {
        (ValidationKey, ValidationTokens, ValidationBytes) = (m.ValidationTokensKey, m.ValidationTokens,
            m.ValidationBytes);
        State = EvaluationState.Pending;
    }

    /// <summary>The evaluations waiting for an encoding of the dataset (any tokenizers).</summary>
    public static IQueryable<EvaluationRecord> AwaitingEncoding(IQueryable<EvaluationRecord> evaluations,
        Guid datasetId) => evaluations.Where(e => e.State == EvaluationState.Encoding && e.DatasetId == datasetId);

    /// <summary>Those an encoding with these tokenizers answers.</summary>
    public static IQueryable<EvaluationRecord> AwaitingEncoding(IQueryable<EvaluationRecord> evaluations,
        Guid datasetId, string tokenizerKey, string? sourceTokenizerKey) =>
        AwaitingEncoding(evaluations, datasetId).Where(e => e.TokenizerKey == tokenizerKey
            && e.SourceTokenizerKey == sourceTokenizerKey);

    public void Fail(string reason)
    {
        State = EvaluationState.Failed;
        FailureReason = reason;
    }

    public void Complete(EvaluationFigures figures, string? sample)
    {
        State = EvaluationState.Completed;
        Figures = figures;
        Sample = sample;
    }
}
