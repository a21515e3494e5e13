namespace Evaluation.Data;

/// <summary>A run that was deleted: it is not evaluated again, even if its TrainingCompleted comes late or
/// twice.</summary>
public sealed class DeletedRun
{
    public Guid RunId { get; set; }
    public DateTimeOffset DeletedAt { get; set; }
}
