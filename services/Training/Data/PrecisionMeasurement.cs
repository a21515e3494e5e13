namespace Training.Data;

/// <summary>
/// Step times of one training shape in fp32 and in bf16 on one kind of machine, measured by the first "auto" run of
/// that shape there: every later run of the shape on such a machine takes the faster without measuring again.
/// </summary>
public sealed class PrecisionMeasurement
{
    /// <summary>The machine in words (<see cref="Platform.ML.TorchRuntime.DescribeMachine"/>).</summary>
    public string Machine { get; set; } = "";
    /// <summary>The shape in words (<see cref="Training.Runs.PrecisionChoice.ShapeOf"/>).</summary>
    public string Shape { get; set; } = "";
    public double Fp32Millis { get; set; }
    public double Bf16Millis { get; set; }
    public int StepsEach { get; set; }
    public DateTimeOffset MeasuredAt { get; set; }
    /// <summary>The run whose start measured it.</summary>
    public Guid RunId { get; set; }
}
