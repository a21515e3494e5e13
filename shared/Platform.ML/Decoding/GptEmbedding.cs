using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>A text's embedding under a <see cref="Gpt"/>: its final hidden states, mean-pooled over its tokens and
/// L2-normalised (so a dot product of two is their cosine similarity).</summary>
public static class GptEmbedding
{
    public static float[] Embed(this Gpt model, int[] tokens, LoraAdapter? adapter = null)
    {
        if (tokens.Length == 0 || tokens.Length > model.Config.BlockSize)
            throw new ArgumentException(
                $"{tokens.Length} tokens: an embedding takes 1 to {model.Config.BlockSize} (the block size).",
                nameof(tokens));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var idx = tensor(tokens.Select(t => (long)t).ToArray(), device: model.TokenEmbedding.device).unsqueeze(0);
        var mean = model.FinalHidden(idx, adapter).to(ScalarType.Float32).mean([1]).squeeze(0);
        return (mean / mean.norm().clamp_min(1e-12)).data<float>().ToArray();
    }
}
