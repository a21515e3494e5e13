using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>
/// A <see cref="Gpt"/>'s forward pass kept open for explanations (see <see cref="Explainer"/>): the same layers over
/// the model's own weights, with attention written out so its weights can be returned.
/// </summary>
public static class GptExplanation
{
    /// <summary>
    /// The token embeddings (a leaf that gradients reach, for gradient × input saliency), the logits of every
    /// position, and every layer's attention weights (batch, head, query, key).
    /// </summary>
    public static (Tensor Logits, Tensor TokenEmbeddings, Tensor[] Attention) Explain(this Gpt model, Tensor idx,
        LoraAdapter? adapter = null)
    {
        var time = idx.shape[1];
        if (time > model.Config.BlockSize)
            throw new ArgumentException(
                $"Sequence of {time} tokens is longer than the block size {model.Config.BlockSize}.");
        var embeddings = model.Wte.forward(idx).detach().requires_grad_(true);
        var x = embeddings + model.Wpe.forward(arange(time, dtype: ScalarType.Int64, device: idx.device));
        var attention = new Tensor[model.Blocks.Count];
        for (var layer = 0; layer < model.Blocks.Count; layer++)
        {
            var block = model.Blocks[layer];
            var (attended, weights) = Attend(block.Attention, block.Ln1.forward(x), adapter);
            x = x + attended;
            x = x + block.Mlp.Forward(block.Ln2.forward(x), adapter);
            attention[layer] = weights;
        }
        return (model.Head(model.FinalNorm.forward(x)), embeddings, attention);
    }

    /// <summary>
    /// The attention written out (inference, no dropout), also returning its weights: each row sums to 1 and puts no
    /// weight on later positions.
    /// </summary>
    private static (Tensor Output, Tensor Weights) Attend(CausalSelfAttention attn, Tensor x, LoraAdapter? adapter)
    {
        long batch = x.shape[0], time = x.shape[1];
        var qkv = attn.ProjectQkv(x, adapter).split(attn.NEmbd, dim: 2);
        var (q, k, v) = (attn.Heads(qkv[0], batch, time), attn.Heads(qkv[1], batch, time),
            attn.Heads(qkv[2], batch, time));
        var scores = q.matmul(k.transpose(-2, -1)).to(ScalarType.Float32) / Math.Sqrt(attn.NEmbd / attn.NHead);
        var future = ones(time, time, dtype: ScalarType.Bool, device: x.device).triu(1);
        var weights = functional.softmax(scores.masked_fill(future, double.NegativeInfinity), -1);
        var y = weights.to(v.dtype).matmul(v).transpose(1, 2).contiguous().view(batch, time, attn.NEmbd);
        return (attn.ProjectOutput(y, adapter), weights);
    }
}
