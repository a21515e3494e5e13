using Platform.ServiceDefaults.Http;
using Platform.Contracts;

namespace Evaluation.Data;

/// <summary>A run's own evaluation is Completed or Failed when stored; a requested one goes Pending → Running →
/// Completed | Failed.</summary>
public enum EvaluationState { Completed, Failed, Pending, Running }

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
    public double? Loss { get; set; }
    public double? Perplexity { get; set; }
    public double? BitsPerByte { get; set; }
    public double? Top1Accuracy { get; set; }
    public double? Top5Accuracy { get; set; }
    public long? TokensEvaluated { get; set; }
    public double? MacroPrecision { get; set; }
    public double? MacroRecall { get; set; }
    public double? MacroF1 { get; set; }
    public double? ExpectedCalibrationError { get; set; }
    public double? Bleu { get; set; }
    public string? BleuTokenize { get; set; }
    public double? ChrF { get; set; }
    public double? ExactMatch { get; set; }
    public long? PairsEvaluated { get; set; }
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

    /// <summary>A run's own evaluation, about to be scored (or failed).</summary>
    public static EvaluationRecord OfRun(TrainingCompleted trained) => new()
    {
        Id = Guid.NewGuid(),
        RunId = trained.RunId,
        ModelName = trained.ModelName,
        CheckpointKey = trained.CheckpointKey,
        Architecture = trained.Architecture,
        CreatedAt = DateTimeOffset.UtcNow,
        Lineage = trained.Lineage?.ToList(),
    };

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
            CreatedAt = at,
            Lineage = version.Lineage is { } lineage ? [.. lineage, dataset.Id] : null,
        };

    public void Fail(string reason)
    {
        State = EvaluationState.Failed;
        FailureReason = reason;
    }

    public void Complete(EvaluationFigures f, string? sample)
    {
        State = EvaluationState.Completed;
        (Loss, Perplexity, BitsPerByte, Top1Accuracy, Top5Accuracy, TokensEvaluated) = (f.Loss, f.Perplexity,
            f.BitsPerByte, f.Top1Accuracy, f.Top5Accuracy, f.TokensEvaluated);
        (MacroPrecision, MacroRecall, MacroF1, ExpectedCalibrationError) = (f.MacroPrecision, f.MacroRecall, f.MacroF1,
            f.ExpectedCalibrationError);
        (Bleu, BleuTokenize, ChrF, ExactMatch, PairsEvaluated) = (f.Bleu, f.BleuTokenize, f.ChrF, f.ExactMatch,
            f.PairsEvaluated);
        Sample = sample;
    }

    public EvaluationFigures Figures() =>
        new(Loss ?? double.NaN, Perplexity ?? double.NaN, BitsPerByte ?? double.NaN, Top1Accuracy ?? 0, Top5Accuracy
        ?? 0, TokensEvaluated ?? 0)
        {
            MacroPrecision = MacroPrecision,
            MacroRecall = MacroRecall,
            MacroF1 = MacroF1,
            ExpectedCalibrationError = ExpectedCalibrationError,
            Bleu = Bleu,
            BleuTokenize = BleuTokenize,
            ChrF = ChrF,
            ExactMatch = ExactMatch,
            PairsEvaluated = PairsEvaluated,
        };
}
