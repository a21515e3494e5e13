using Platform.ML;

namespace Platform.ML.Tests;

/// <summary>Keeps every step report and every checkpoint the trainer offers, as bytes by step.</summary>
internal sealed class CheckpointRecorder : ITrainingObserver
{
    public List<StepReport> Steps { get; } = [];
    public Dictionary<int, byte[]> Checkpoints { get; } = [];
    public void OnStep(StepReport report) => Steps.Add(report);
    public void OnEval(EvalReport report) { }

    public void OnCheckpoint(CheckpointReport report)
    {
        using var stream = new MemoryStream();
        report.Write(stream);
        Checkpoints[report.Step] = stream.ToArray();
    }
}
