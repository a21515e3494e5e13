using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>
/// Inference over a <see cref="Gpt"/>'s own weights with a key-value cache: no dropout, no gradients. Each step runs
/// the model's layers as <see cref="Gpt.forward"/> does (embeddings, then per block x + attn(ln₁(x)) and
/// x + mlp(ln₂(x)), then the final norm and the tied head), with attention reading and writing the cache. The model
/// modules keep only forward; serving (<see cref="Sampler"/>, <see cref="ContinuousBatcher"/>) decodes through here.
/// </summary>
public static class GptDecoding
{
    /// <summary>
    /// Logits of the last position only, for token ids appended after what the cache holds. Positions continue from
    /// the cache's length.
    /// </summary>
    /// <param name="adapter">LoRA adapters for this call (null: the attached ones, if any).</param>
    public static Tensor ForwardLast(this Gpt model, Tensor idx, KvCache cache, LoraAdapter? adapter = null)
    {
        var start = cache.Length;
        var time = idx.shape[1];
        if (start + time > model.Config.BlockSize)
            throw new ArgumentException($"Position {start + time} is past the block size {model.Config.BlockSize}.");
        adapter ??= model.Adapter;
        var pos = arange(start, start + time, dtype: ScalarType.Int64, device: idx.device);
        var x = model.Wte.forward(idx) + model.Wpe.forward(pos);
        for (var layer = 0; layer < model.Blocks.Count; layer++)
            x = Step(model.Blocks[layer], x, (attn, h) => Cached(attn, h, cache, layer, adapter), adapter, null);
        return model.Head(model.FinalNorm.forward(x[.., ^1..]))[.., -1];
    }

    /// <summary>
    /// Fills slot <paramref name="slot"/> of a <see cref="SlotKvCache"/> with token ids (1, time) at positions
    /// start..start+time-1, after the start positions it already holds, and returns the logits after the last of them
    /// (vocab) in fp32.
    /// </summary>
    /// <param name="packed">This model's weights packed for decoding (null: LibTorch's products). With them every
    /// position is computed as a decoding step computes it (<see cref="DecodeAttention"/>), so a position's key, value
    /// and logits are the same bits whether it was prefilled in one call, in chunks or after a restored prefix.</param>
    /// <param name="start">Positions the slot already holds (only with <paramref name="packed"/>).</param>
    public static Tensor PrefillSlot(this Gpt model, Tensor idx, SlotKvCache cache, int slot,
        LoraAdapter? adapter = null, PackedGpt? packed = null, int start = 0)
    {
        var time = idx.shape[1];
        if (start + time > model.Config.BlockSize)
            throw new ArgumentException(
                $"Position {start + time} is past the block size {model.Config.BlockSize}.");
        if (start > 0 && packed is null)
            throw new ArgumentException("Only packed decoding prefills after a start.", nameof(start));
        if (cache.KeysTransposed != (packed is null))
            throw new ArgumentException(packed is null ? "LibTorch's prefill writes keys transposed."
                : "Packed decoding reads keys untransposed.", nameof(cache));
        adapter ??= model.Adapter;
        var pos = arange(start, start + time, dtype: ScalarType.Int64, device: idx.device);
        var x = model.Wte.forward(idx) + model.Wpe.forward(pos);
        if (packed is not null)
            x = PackedLayers(model, x, cache, pos.data<long>().ToArray(), Enumerable.Repeat(slot, (int)time).ToArray(),
                adapter, packed);
        else
        {
            for (var layer = 0; layer < model.Blocks.Count; layer++)
                x = Step(model.Blocks[layer], x, (attn, h) => Prefill(attn, h, cache, layer, slot, adapter),
                    adapter, null);
        }
        return model.Head(model.FinalNorm.forward(x[.., ^1..]), packed)[0, -1];
    }

    /// <summary>
    /// One decoding step for the cache's rows 0..M-1 at once: row r feeds token ids[r] at position positions[r] (both
    /// of length M) and gets its next-token logits, (M, vocab) in fp32.
    /// </summary>
    /// <param name="packed">This model's weights packed for decoding (null: LibTorch's products).</param>
    /// <param name="slots">With <paramref name="packed"/>, row r's slot (null: r), so that only the slots that decode
    /// are computed.</param>
    public static Tensor DecodeSlots(this Gpt model, Tensor ids, Tensor positions, SlotKvCache cache,
        LoraAdapter? adapter = null, PackedGpt? packed = null, int[]? slots = null)
    {
        // LibTorch's q·kᵀ reads keys transposed; the packed attention reads each position's key as it lies.
        if (cache.KeysTransposed != (packed is null))
            throw new ArgumentException(packed is null ? "LibTorch's decoding step reads keys transposed."
                : "Packed decoding reads keys untransposed.", nameof(cache));
        adapter ??= model.Adapter;
        var x = (model.Wte.forward(ids) + model.Wpe.forward(positions)).unsqueeze(1);
        if (packed is not null)
        {
            // Packed decoding attends row by row, each over its own positions (DecodeAttention): no mask, no common
            // span.
            x = PackedLayers(model, x, cache, positions.data<long>().ToArray(), slots, adapter, packed);
            return model.Head(model.FinalNorm.forward(x), packed)[.., 0];
        }
        var rows = arange(ids.shape[0], dtype: ScalarType.Int64, device: ids.device);
        // The positions attended: the furthest row's, rounded up to a multiple of 64 so that what a row sums over
        // changes only by whole runs of masked (exactly zero) weights, which leave its sums as they were.
        var span = (int)Math.Min(model.Config.BlockSize, (positions.max().item<long>() + 64) / 64 * 64);
        // Row r does not see positions after positions[r]: (M, 1, 1, span), broadcast over heads and the single query,
        // made once for every layer.
        var hidden = arange(span, dtype: ScalarType.Int64, device: ids.device).unsqueeze(0).gt(positions.unsqueeze(1))
            .unsqueeze(1).unsqueeze(1);
        for (var layer = 0; layer < model.Blocks.Count; layer++)
            x = Step(model.Blocks[layer], x, (attn, h) => Decode(attn, h, cache, layer, rows, positions, hidden,
                adapter), adapter, null);
        return model.Head(model.FinalNorm.forward(x))[.., 0];
    }

    /// <summary>Every block over packed weights, each row at its position in its slot (<see cref="DecodePacked"/>):
    /// a decoding step's rows and a prefill's alike.</summary>
    private static Tensor PackedLayers(Gpt model, Tensor x, SlotKvCache cache, long[] positions, int[]? slots,
        LoraAdapter? adapter, PackedGpt packed)
    {
        for (var layer = 0; layer < model.Blocks.Count; layer++)
            x = Step(model.Blocks[layer], x,
                (attn, h) => DecodePacked(attn, h, cache, layer, positions, adapter, packed, slots), adapter, packed);
        return x;
    }

    /// <summary>A pre-LN block, its attention given: x + attn(ln₁(x)), then x + mlp(ln₂(x)).</summary>
    private static Tensor Step(Block block, Tensor x, Func<CausalSelfAttention, Tensor, Tensor> attend,
        LoraAdapter? adapter, PackedGpt? packed)
    {
        x = x + attend(block.Attention, block.Ln1.forward(x));
        return x + block.Mlp.Forward(block.Ln2.forward(x), adapter, packed);
    }

    /// <summary>
    /// Attention for new positions appended to a cache: a prefill into an empty cache is causal among its own
    /// positions; a single new position attends to everything cached.
    /// </summary>
    private static Tensor Cached(CausalSelfAttention attn, Tensor x, KvCache cache, int layer, LoraAdapter? adapter)
    {
        long batch = x.shape[0], time = x.shape[1];
        if (time > 1 && cache.LayerLength(layer) > 0)
            throw new ArgumentException("Several new positions can only be prefilled into an empty cache.");
        var qkv = attn.ProjectQkv(x, adapter).split(attn.NEmbd, dim: 2);
        var (k, v) = cache.Append(layer, attn.Heads(qkv[1], batch, time), attn.Heads(qkv[2], batch, time));
        var y = functional.scaled_dot_product_attention(attn.Heads(qkv[0], batch, time), k, v, is_casual: time > 1);
        y = y.transpose(1, 2).contiguous().view(batch, time, attn.NEmbd);
        return attn.ProjectOutput(y, adapter);
    }

    /// <summary>
    /// A sequence's window into its slot of a <see cref="SlotKvCache"/> (positions 0..time-1, causal among themselves):
    /// the same computation as a prefill into a <see cref="KvCache"/>, whatever else the cache holds. Keys are written
    /// transposed, as LibTorch's decoding step reads them.
    /// </summary>
    private static Tensor Prefill(CausalSelfAttention attn, Tensor x, SlotKvCache cache, int layer, int slot,
        LoraAdapter? adapter)
    {
        long time = x.shape[1];
        var qkv = attn.ProjectQkv(x, adapter).split(attn.NEmbd, dim: 2);
        var (q, k, v) = (attn.Heads(qkv[0], 1, time), attn.Heads(qkv[1], 1, time), attn.Heads(qkv[2], 1, time));
        cache.Keys(layer)[slot].narrow(2, 0, time).copy_(k[0].transpose(-2, -1));
        cache.Values(layer)[slot].narrow(1, 0, time).copy_(v[0]);
        var y = functional.scaled_dot_product_attention(q, k, v, is_casual: true);
        return attn.ProjectOutput(y.transpose(1, 2).contiguous().view(1, time, attn.NEmbd), adapter);
    }

    /// <summary>
    /// One new position for each of the rows 0..M-1 of the cache (x: M, 1, embedding), row r at positions[r]: its key
    /// and value are written there, and it attends over the first span positions of its slot, <paramref name="hidden"/>
    /// (M, 1, 1, span) masking what lies after it. The span is set by the furthest row, in whole runs of 64 positions:
    /// the positions a row does not see get weight exactly 0, so its result does not depend on the other rows.
    /// </summary>
    private static Tensor Decode(CausalSelfAttention attn, Tensor x, SlotKvCache cache, int layer, Tensor rows,
        Tensor positions, Tensor hidden, LoraAdapter? adapter)
    {
        long batch = x.shape[0];
        var qkv = attn.ProjectQkv(x, adapter).split(attn.NEmbd, dim: 2);
        var (q, k, v) = (attn.Heads(qkv[0], batch, 1), attn.Heads(qkv[1], batch, 1), attn.Heads(qkv[2], batch, 1));
        var (keys, values) = (cache.Keys(layer), cache.Values(layer));
        keys.index_put_(k.squeeze(2), TensorIndex.Tensor(rows), TensorIndex.Colon, TensorIndex.Colon,
            TensorIndex.Tensor(positions));
        values.index_put_(v.squeeze(2), TensorIndex.Tensor(rows), TensorIndex.Colon, TensorIndex.Tensor(positions));
        // Written out rather than the fused kernel: with several threads that kernel splits the work by the batch's
        // size, which changes a row's rounding; these products and the softmax treat every row alike at any batch size.
        var span = hidden.shape[^1];
        var scores = q.matmul(keys.narrow(0, 0, batch).narrow(3, 0, span)) / Math.Sqrt(attn.NEmbd / attn.NHead);
        var weights = functional.softmax(scores.masked_fill(hidden, double.NegativeInfinity), -1);
        var y = weights.matmul(values.narrow(0, 0, batch).narrow(2, 0, span));
        return attn.ProjectOutput(y.transpose(1, 2).contiguous().view(batch, 1, attn.NEmbd), adapter);
    }

    /// <summary>
    /// The same step with packed weights: row r (x: M, 1, embedding) at positions[r] writes its key and value there and
    /// attends over its own positions only (<see cref="DecodeAttention"/>), so it needs no mask. A prefill's rows
    /// (x: 1, time, embedding) are one slot's consecutive positions (<paramref name="slots"/>).
    /// </summary>
    private static Tensor DecodePacked(CausalSelfAttention attn, Tensor x, SlotKvCache cache, int layer,
        long[] positions, LoraAdapter? adapter, PackedGpt packed, int[]? slots = null)
    {
        var qkv = attn.ProjectQkv(x, adapter, packed);
        var y = DecodeAttention.Apply(qkv, cache.Keys(layer), cache.Values(layer), positions, attn.NHead, slots);
        return attn.ProjectOutput(y.view(x.shape), adapter, packed);
    }
}
