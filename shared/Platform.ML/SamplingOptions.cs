namespace Platform.ML;

/// <summary>Temperature 0 means greedy (argmax); TopK null or 0 keeps the whole vocabulary.</summary>
public sealed record SamplingOptions(int MaxNewTokens, double Temperature = 1.0, int? TopK = null, long Seed = 0);
