using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// An <see cref="EncoderDecoder"/>'s forward pass kept open for explanations (see <see cref="Explainer"/>): the same
/// layers over the model's own weights, with every attention written out so its weights can be returned.
/// </summary>
public static class EncoderDecoderExplanation
{
    /// <summary>
    /// The source token embeddings (a leaf gradients reach), the logits of every decoder position, and every layer's
    /// encoder self-attention, decoder self-attention and cross-attention weights.
    /// </summary>
    public static (Tensor Logits, Tensor SourceEmbeddings, Tensor[] Encoder, Tensor[] Decoder, Tensor[] Cross)
        Explain(this EncoderDecoder model, Tensor source, Tensor decoderInput)
    {
        var mask = model.SourceMask(source);
        var embeddings = model.SourceEmbedding.forward(source).detach().requires_grad_(true);
        var x = embeddings
            + model.SourcePositions.forward(arange(source.shape[1], dtype: ScalarType.Int64, device: source.device));
        var encoder = new Tensor[model.EncoderBlocks.Count];
        for (var layer = 0; layer < model.EncoderBlocks.Count; layer++)
        {
            var block = model.EncoderBlocks[layer];
            var (attended, weights) = SelfAttend(block.Attention, block.Ln1.forward(x), mask);
            x = x + attended;
            x = x + block.Mlp.forward(block.Ln2.forward(x));
            encoder[layer] = weights;
        }
        var memory = model.EncoderNorm.forward(x);
        var y = model.TargetEmbedding.forward(decoderInput) + model.TargetPositions.forward(
            arange(decoderInput.shape[1], dtype: ScalarType.Int64, device: decoderInput.device));
        var (self, cross) = (new Tensor[model.DecoderBlocks.Count], new Tensor[model.DecoderBlocks.Count]);
        for (var layer = 0; layer < model.DecoderBlocks.Count; layer++)
        {
            var block = model.DecoderBlocks[layer];
            var (attended, selfWeights) = SelfAttend(block.Attention, block.Ln1.forward(y), null);
            y = y + attended;
            var (crossed, crossWeights) = CrossAttend(block.Cross, block.Ln2.forward(y), memory, mask);
            y = y + crossed;
            y = y + block.Mlp.forward(block.Ln3.forward(y));
            (self[layer], cross[layer]) = (selfWeights, crossWeights);
        }
        return (model.Head(model.FinalNorm.forward(y)), embeddings, encoder, self, cross);
    }

    /// <summary>Self-attention written out, with its weights (batch, head, query, key).</summary>
    private static (Tensor Output, Tensor Weights) SelfAttend(SelfAttention attn, Tensor x, Tensor? keyMask)
    {
        long batch = x.shape[0], time = x.shape[1];
        var qkv = attn.ProjectQkv(x).split(attn.NEmbd, dim: 2);
        var weights = Attention.Weights(Attention.Heads(qkv[0], attn.NHead), Attention.Heads(qkv[1], attn.NHead),
            keyMask, attn.Causal);
        var y = weights.to(qkv[2].dtype).matmul(Attention.Heads(qkv[2], attn.NHead));
        return (attn.ProjectOutput(Attention.Merge(y, batch, time, attn.NEmbd)), weights);
    }

    /// <summary>Cross-attention written out, with its weights (batch, head, target, source).</summary>
    private static (Tensor Output, Tensor Weights) CrossAttend(CrossAttention attn, Tensor x, Tensor memory,
        Tensor sourceMask)
    {
        long batch = x.shape[0], time = x.shape[1];
        var (k, v) = attn.KeysValues(memory);
        var weights = Attention.Weights(Attention.Heads(attn.ProjectQuery(x), attn.NHead), k, sourceMask,
            causal: false);
        var y = weights.to(v.dtype).matmul(v);
        return (attn.ProjectOutput(Attention.Merge(y, batch, time, attn.NEmbd)), weights);
    }
}
