namespace Evaluation.Scoring;

/// <summary>
/// A checkpoint and the held-out data to score it on, already encoded with its tokenizer: a token file (GPT) or a pair
/// file (encoder-decoder). ValidationBytes / ValidationTokens converts a GPT's loss to bits per byte.
/// </summary>
public sealed record EvaluationTarget(string CheckpointKey, string CheckpointSha256, string TokenizerKey,
    string? SourceTokenizerKey,
    string ValidationKey, long ValidationBytes, long ValidationTokens);
