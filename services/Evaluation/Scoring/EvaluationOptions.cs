namespace Evaluation.Scoring;

public sealed class EvaluationOptions
{
    public int TorchThreads { get; set; } = 1;
    /// <summary>Held-out tokens scored at most (consecutive windows from the start of the split).</summary>
    public long MaxTokens { get; set; } = 262_144;
    public int BatchSize { get; set; } = 32;
    /// <summary>Length of the sample stored with the evaluation (0 for none).</summary>
    public int SampleTokens { get; set; } = 200;
    /// <summary>GPTs: score the held-out split again with the int8 kernel serving uses (the int8Loss metric), the
    /// quality cost of serving the version in int8.</summary>
    public bool Int8Loss { get; set; } = true;
    /// <summary>Encoder-decoder: held-out pairs scored and decoded at most.</summary>
    public int MaxPairs { get; set; } = 500;
    /// <summary>Encoder-decoder: the beam the sequence metrics decode with (the served default).</summary>
    public int NumBeams { get; set; } = 4;
    /// <summary>How often the worker looks for requested evaluations, in seconds.</summary>
    public double PollSeconds { get; set; } = 2;
    /// <summary>A requested evaluation Running longer than this (its worker died) is taken up again.</summary>
    public int StaleMinutes { get; set; } = 30;
}
