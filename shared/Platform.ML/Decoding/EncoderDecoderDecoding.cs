using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>
/// Step-by-step decoding over an <see cref="EncoderDecoder"/>'s own weights (inference: no dropout, no gradients):
/// the source is encoded once, each decoder layer's cross-attention keys and values are computed from it once, and
/// each step appends to the decoder's self-attention cache. Beam search and serving decode through here.
/// </summary>
public static class EncoderDecoderDecoding
{
    /// <summary>Encodes a batch of sources and computes every decoder layer's cross-attention keys and values from
    /// them, for <see cref="ForwardLast"/>.</summary>
    public static DecoderState StartDecoding(this EncoderDecoder model, Tensor source)
    {
        using var scope = NewDisposeScope();
        var mask = model.SourceMask(source);
        var memory = model.Encode(source, mask);
        var cross = model.DecoderBlocks.Select(block => block.Cross.KeysValues(memory)).ToArray();
        return new DecoderState(model.DecoderBlocks.Count, mask, cross.Select(c => c.Keys).ToArray(),
            cross.Select(c => c.Values).ToArray());
    }

    /// <summary>Logits (batch, target vocabulary) of the position after the given decoder ids, appended to the state's
    /// cache.</summary>
    /// <param name="packed">This model's decoder packed for decoding (null: LibTorch's products).</param>
    public static Tensor ForwardLast(this EncoderDecoder model, Tensor decoderInput, DecoderState state,
        PackedEncoderDecoder? packed = null)
    {
        var start = state.Cache.Length;
        var time = decoderInput.shape[1];
        if (start + time > model.Config.MaxTargetLength)
            throw new ArgumentException(
                $"Position {start + time} is past maxTargetLength {model.Config.MaxTargetLength}.");
        var pos = arange(start, start + time, dtype: ScalarType.Int64, device: decoderInput.device);
        var x = model.TargetEmbedding.forward(decoderInput) + model.TargetPositions.forward(pos);
        for (var layer = 0; layer < model.DecoderBlocks.Count; layer++)
        {
            var block = model.DecoderBlocks[layer];
            x = x + Cached(block.Attention, block.Ln1.forward(x), state.Cache, layer, packed);
            x = x + block.Cross.Attend(block.Ln2.forward(x), state.CrossKeys[layer], state.CrossValues[layer],
                state.SourceMask, packed?[layer, "cross_attn.c_q"], packed?[layer, "cross_attn.c_proj"]);
            var h = block.Ln3.forward(x);
            x = x + (packed is null ? block.Mlp.forward(h)
                : block.Mlp.Forward(h, packed[layer, "mlp.c_fc"], packed[layer, "mlp.c_proj"]));
        }
        var last = model.FinalNorm.forward(x[.., ^1..]);
        return (packed?.Head.Apply(last) ?? model.Head(last))[.., -1];
    }

    /// <summary>The decoder's self-attention for positions appended to its cache (see <see
    /// cref="GptDecoding.ForwardLast"/>).</summary>
    private static Tensor Cached(SelfAttention attn, Tensor x, KvCache cache, int layer, PackedEncoderDecoder? packed)
    {
        long batch = x.shape[0], time = x.shape[1];
        var qkv = (packed?[layer, "attn.c_attn"].Apply(x) ?? attn.ProjectQkv(x)).split(attn.NEmbd, dim: 2);
        var (k, v) = cache.Append(layer, Attention.Heads(qkv[1], attn.NHead), Attention.Heads(qkv[2], attn.NHead));
        var y = functional.scaled_dot_product_attention(Attention.Heads(qkv[0], attn.NHead), k, v,
            is_casual: time > 1);
        var merged = Attention.Merge(y, batch, time, attn.NEmbd);
        return packed?[layer, "attn.c_proj"].Apply(merged) ?? attn.ProjectOutput(merged);
    }
}
