using Platform.Contracts;

namespace Training.Registry.Data;

public enum CandidateState { Waiting, Registered, Deleted }

/// <summary>
/// A run on its way into the registry, assembled from two events that may arrive in either order: TrainingCompleted
/// (what was trained: checkpoint, tokenizer, dataset, owner, cost) and EvaluationCompleted (its figures). When both
/// halves are in, it is registered once; a run deleted first is never registered (Waiting → Registered | Deleted).
/// </summary>
public sealed class RegistrationCandidate
{
    public Guid RunId { get; private set; }
    public CandidateState State { get; private set; }
    public string Name { get; private set; } = "";
    public string? CheckpointKey { get; private set; }
    public string? CheckpointSha256 { get; private set; }
    public string? TokenizerKey { get; private set; }
    public string Architecture { get; private set; } = Architectures.Gpt;
    public string? SourceTokenizerKey { get; private set; }
    public Guid DatasetId { get; private set; }
    /// <summary>The datasets the run's weights learned from (null from a run from before sharing: its dataset
    /// alone).</summary>
    public List<Guid>? Lineage { get; private set; }
    public Guid? OwnerId { get; private set; }
    public string? OwnerName { get; private set; }
    public string? BaseModel { get; private set; }
    public string? FineTuneMethod { get; private set; }
    public double? ValidationLoss { get; private set; }
    public RunCost? Cost { get; private set; }
    public DateTimeOffset? TrainedAt { get; private set; }
    public Guid? EvaluationId { get; private set; }
    public EvaluationFigures? Evaluation { get; private set; }
    public string? Sample { get; private set; }
    public DateTimeOffset? EvaluatedAt { get; private set; }
    public int? RegisteredVersion { get; private set; }
    public string? ChatTemplate { get; private set; }
    public TrainingProvenance? Provenance { get; private set; }

    public static RegistrationCandidate For(Guid runId) => new() { RunId = runId };

    public bool IsReady => State == CandidateState.Waiting && TrainedAt is not null && EvaluatedAt is not null;

    /// <summary>The trained half. A resumed run that trains again replaces it, as long as nothing is registered
    /// yet.</summary>
    public void RecordTraining(TrainingCompleted m)
    {
        if (State != CandidateState.Waiting)
            return;
        (Name, CheckpointKey, CheckpointSha256, TokenizerKey, Architecture, SourceTokenizerKey) =
            (m.ModelName, m.CheckpointKey, m.CheckpointSha256, m.TokenizerKey, m.Architecture, m.SourceTokenizerKey);
        (DatasetId, OwnerId, OwnerName, BaseModel, FineTuneMethod) = (m.DatasetId, m.Owner?.Id, m.Owner?.Name,
            m.BaseModel, m.FineTuneMethod);
        (ValidationLoss, Cost, TrainedAt) = (m.RegisteredValidationLoss ?? m.FinalValidationLoss, m.Cost,
            m.CompletedAt);
        Lineage = m.Lineage?.ToList();
        ChatTemplate = m.ChatTemplate;
        Provenance = m.Provenance;
    }

    /// <summary>The evaluated half.</summary>
    public void RecordEvaluation(EvaluationCompleted m)
    {
        if (State != CandidateState.Waiting)
            return;
        (EvaluationId, Evaluation, Sample, EvaluatedAt) = (m.EvaluationId, m.Figures, m.Sample, m.CompletedAt);
    }

    /// <summary>Registers the run as <paramref name="name"/> v<paramref name="version"/>; only a ready candidate
    /// can.</summary>
    public ModelVersion Register(int version, DateTimeOffset now)
    {
        if (!IsReady)
            throw new InvalidOperationException($"Run {RunId} is {State} and " +
                $"{(TrainedAt is null ? "not trained" : "not evaluated")}: it cannot be registered.");
        State = CandidateState.Registered;
        RegisteredVersion = version;
        return new ModelVersion
        {
            Id = Guid.NewGuid(),
            Name = Name,
            Version = version,
            RunId = RunId,
            DatasetId = DatasetId,
            OwnerId = OwnerId,
            OwnerName = OwnerName,
            CheckpointKey = CheckpointKey!,
            CheckpointSha256 = CheckpointSha256!,
            TokenizerKey = TokenizerKey!,
            Architecture = Architecture,
            SourceTokenizerKey = SourceTokenizerKey,
            BaseModel = BaseModel,
            FineTuneMethod = FineTuneMethod,
            Evaluation = Evaluation,
            ValidationLoss = ValidationLoss,
            Cost = Cost,
            Sample = Sample,
            CreatedAt = now,
            Lineage = Lineage ?? [DatasetId],
            LineageAnnounced = true,
            ChatTemplate = ChatTemplate,
            Provenance = Provenance,
        };
    }

    /// <summary>The run was deleted: whatever arrives for it later registers nothing.</summary>
    public void MarkDeleted() => State = CandidateState.Deleted;
}
