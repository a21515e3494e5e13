namespace Evaluation.Data;

public enum EvaluationState { Completed, Failed }

public sealed class EvaluationRecord
{
    public Guid Id { get; set; }
    public Guid RunId { get; set; }
    public string ModelName { get; set; } = "";
    public EvaluationState State { get; set; }
    public string? FailureReason { get; set; }
    public string CheckpointKey { get; set; } = "";
    public double? Loss { get; set; }
    public double? Perplexity { get; set; }
    public double? BitsPerByte { get; set; }
    public double? Top1Accuracy { get; set; }
    public double? Top5Accuracy { get; set; }
    public long? TokensEvaluated { get; set; }
    public string? Sample { get; set; }
    public long DurationMilliseconds { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
