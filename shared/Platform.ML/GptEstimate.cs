namespace Platform.ML;

/// <summary>
/// What training a GPT will take, before it starts: parameters, FLOPs and peak memory. Memory is the fp32 weights,
/// their gradients and AdamW's two moments (16 bytes a parameter, plus a bf16 copy of the weights when computing in
/// bf16), the activations kept for the backward pass, and the process's own baseline. The activation model (per layer
/// and token, 16·C values plus 2·H·T for attention; bf16 keeping 0.6 of fp32's bytes; recomputation 0.58 of that)
/// was fitted to the benchmark's measured peaks; docs/benchmarks.md has the figures and the test holding it to 30%.
/// </summary>
public sealed record GptEstimate(long Parameters, long TokensPerStep, long Tokens, double TrainingFlops,
    long WeightsAndOptimizerBytes,
    long ActivationBytes, long BaselineBytes)
{
    public long PeakMemoryBytes => WeightsAndOptimizerBytes + ActivationBytes + BaselineBytes;

    public static GptEstimate For(GptConfig config, int batchSize, int gradientAccumulationSteps, int maxSteps,
        bool bf16, bool recompute,
        long baselineBytes)
    {
        var parameters = (long)config.PaddedVocabSize * config.NEmbd + (long)config.BlockSize * config.NEmbd
            + config.NonEmbeddingParameters;
        var tokensPerStep = (long)batchSize * config.BlockSize * Math.Max(1, gradientAccumulationSteps);
        var tokens = tokensPerStep * maxSteps;
        var weights = parameters * (16L + (bf16 ? 2 : 0));

        // One micro-batch's activations are alive at a time (accumulation adds gradients, not activations).
        double microTokens = (double)batchSize * config.BlockSize;
        var perLayerPerToken = 16.0 * config.NEmbd + 2.0 * config.NHead * config.BlockSize;
        var activations = config.NLayer * microTokens * perLayerPerToken * 4;
        if (bf16)
            activations *= 0.6;
        if (recompute)
            activations *= 0.58;
        // Logits over the real vocabulary, their softmax and its gradient, always fp32.
        activations += microTokens * config.VocabSize * 4 * 3;
        return new GptEstimate(parameters, tokensPerStep, tokens, 6.0 * parameters * tokens, weights, (long)activations,
            baselineBytes);
    }

    /// <summary>
    /// The same model of memory applied to an encoder-decoder at its longest lengths: per encoder layer and source
    /// token 16·C + 2·H·S values; per decoder layer and target position 22·C (the cross-attention's projections too)
    /// plus 2·H·(T + S) for its two attention maps; logits over the target vocabulary. Not separately fitted.
    /// </summary>
    public static GptEstimate For(EncoderDecoderConfig config, int batchSize, int gradientAccumulationSteps,
        int maxSteps, bool bf16,
        long baselineBytes)
    {
        var (source, target) = ((double)config.MaxSourceLength, (double)config.MaxTargetLength);
        var tokensPerStep = (long)batchSize * (config.MaxSourceLength + config.MaxTargetLength)
            * Math.Max(1, gradientAccumulationSteps);
        var tokens = tokensPerStep * maxSteps;
        var weights = config.Parameters * (16L + (bf16 ? 2 : 0));
        var activations = batchSize * 4.0
            * (config.NEncoderLayer * source * (16.0 * config.NEmbd + 2.0 * config.NHead * source)
                                             + config.NDecoderLayer * target
                                             * (22.0 * config.NEmbd + 2.0 * config.NHead * (target + source)));
        if (bf16)
            activations *= 0.6;
        activations += batchSize * target * config.TargetVocabSize * 4 * 3;
        return new GptEstimate(config.Parameters, tokensPerStep, tokens, 6.0 * config.Parameters * tokens, weights,
            (long)activations, baselineBytes);
    }
}
