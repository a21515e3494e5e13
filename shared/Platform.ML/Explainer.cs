using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>A token the model could have chosen, with its log-probability.</summary>
public sealed record TokenAlternative(int Id, double LogProbability);

/// <summary>How likely the model found the token at <see cref="Position"/> given everything before it, and its five
/// favourites there.</summary>
public sealed record TokenPrediction(int Position, int Id, double LogProbability, IReadOnlyList<TokenAlternative> Top);

/// <summary>
/// What a model did with one input. Attention is [layer][head][query][key]; an encoder-decoder also has its encoder's
/// and its cross-attention ([layer][head][target position][source position]). Saliency is gradient × input, one value
/// per prompt (source) token: the dot product of the token's embedding with the gradient of what <see
/// cref="SaliencyOf"/> names ("target": the target's log-likelihood; "next": the logit of the model's favourite next
/// token) with respect to it, i.e. the first-order change in that score were the token's embedding removed.
/// </summary>
public sealed record Explanation(
    int[] Tokens,
    int PromptLength,
    float[][][][] Attention,
    IReadOnlyList<TokenPrediction> Predictions,
    TokenPrediction Next,
    float[] Saliency,
    string SaliencyOf,
    int[]? SourceTokens = null,
    float[][][][]? EncoderAttention = null,
    float[][][][]? CrossAttention = null);

/// <summary>Explanations of a GPT's or an encoder-decoder's output for one input (inference: no dropout, no parameter
/// gradients).</summary>
public static class Explainer
{
    /// <param name="target">A continuation to score; empty: explain the next token the model favours.</param>
    public static Explanation Explain(Gpt model, IReadOnlyList<int> prompt, IReadOnlyList<int> target,
        LoraAdapter? adapter = null)
    {
        if (prompt.Count == 0)
            throw new ArgumentException("The prompt must hold at least one token.", nameof(prompt));
        var ids = prompt.Concat(target).ToArray();
        if (ids.Length > model.Config.BlockSize)
            throw new ArgumentException($"The prompt and target make {ids.Length} tokens; the model reads at most " +
                $"{model.Config.BlockSize}.");
        model.eval();
        var device = model.parameters().First().device;
        using var scope = NewDisposeScope();
        using var _ = enable_grad();
        var input = tensor(ids.Select(i => (long)i).ToArray(), device: device).unsqueeze(0);
        var (logits, embeddings, attention) = model.Explain(input, adapter ?? model.Adapter);
        var logProbabilities = nn.functional.log_softmax(logits[0], -1);
        var (predictions, next, objective, of) = Score(logits[0], logProbabilities, ids, prompt.Count);
        return new Explanation(ids, prompt.Count, attention.Select(Weights).ToArray(), predictions, next,
            Saliency(objective, embeddings, prompt.Count), of);
    }

    /// <param name="source">The source ids, its &lt;/s&gt; included.</param>
    /// <param name="target">The target to score (without &lt;s&gt;); empty: explain the first token the model
    /// favours.</param>
    public static Explanation Explain(EncoderDecoder model, IReadOnlyList<int> source, IReadOnlyList<int> target)
    {
        var c = model.Config;
        if (source.Count > c.MaxSourceLength)
            throw new ArgumentException($"The source encodes to {source.Count} tokens; the encoder takes at most " +
                $"{c.MaxSourceLength}.");
        var decoderIds = new[] { c.TargetSpecials.Bos }.Concat(target).ToArray();
        if (decoderIds.Length > c.MaxTargetLength)
            throw new ArgumentException($"The target makes {decoderIds.Length} decoder positions; the decoder takes " +
                $"at most {c.MaxTargetLength}.");
        model.eval();
        var device = model.parameters().First().device;
        using var scope = NewDisposeScope();
        using var _ = enable_grad();
        var sourceIds = tensor(source.Select(i => (long)i).ToArray(), device: device).unsqueeze(0);
        var decoderInput = tensor(decoderIds.Select(i => (long)i).ToArray(), device: device).unsqueeze(0);
        var (logits, embeddings, encoder, decoder, cross) = model.Explain(sourceIds, decoderInput);
        var logProbabilities = nn.functional.log_softmax(logits[0], -1);
        // Decoder position 0 is <s>: every target token is predicted, so the "prompt" is <s> alone.
        var (predictions, next, objective, of) = Score(logits[0], logProbabilities, decoderIds, 1);
        return new Explanation(decoderIds, 1, decoder.Select(Weights).ToArray(), predictions, next,
            Saliency(objective, embeddings, source.Count), of, source.ToArray(), encoder.Select(Weights).ToArray(),
            cross.Select(Weights).ToArray());
    }

    /// <summary>
    /// Each token after the first scored under the positions before it, the model's favourite after the last, and what
    /// saliency explains: the log-likelihood of the tokens after the prompt when there are any, else the favourite's
    /// logit (its log-probability saturates at 0 when the model is sure, and its gradient with it).
    /// </summary>
    private static (List<TokenPrediction> Predictions, TokenPrediction Next, Tensor Objective,
        string Of) Score(Tensor logits, Tensor logProbabilities,
        int[] ids, int promptLength)
    {
        var predictions = new List<TokenPrediction>();
        for (var t = 1; t < ids.Length; t++)
            predictions.Add(Prediction(logProbabilities[t - 1], t, ids[t]));
        var last = logProbabilities[ids.Length - 1];
        var favourite = (int)last.argmax().item<long>();
        var next = Prediction(last, ids.Length, favourite);
        if (ids.Length > promptLength)
        {
            var positions = tensor(Enumerable.Range(promptLength - 1, ids.Length - promptLength).Select(t =>
                (long)t).ToArray(), device: last.device);
            var targets = tensor(ids[promptLength..].Select(i => (long)i).ToArray(), device: last.device);
            return (predictions, next,
                logProbabilities.index_select(0, positions).gather(1, targets.unsqueeze(1)).sum(), "target");
        }
        return (predictions, next, logits[ids.Length - 1, favourite], "next");
    }

    private static TokenPrediction Prediction(Tensor logProbabilities, int position, int id)
    {
        var (values, indices) = topk(logProbabilities, (int)Math.Min(5, logProbabilities.shape[0]));
        var top = values.data<float>().ToArray().Zip(indices.data<long>().ToArray(), (v, i) =>
            new TokenAlternative((int)i, v)).ToList();
        return new TokenPrediction(position, id, logProbabilities[id].item<float>(), top);
    }

    // Only the embeddings' gradient is asked for: the model's parameters (shared by every request) get none.
    private static float[] Saliency(Tensor objective, Tensor embeddings, int count)
    {
        var gradient = autograd.grad([objective], [embeddings])[0];
        return (gradient * embeddings).sum(-1)[0,
            ..count].detach().to(ScalarType.Float32).cpu().data<float>().ToArray();
    }

    /// <summary>(1, heads, queries, keys) → [head][query][key].</summary>
    private static float[][][] Weights(Tensor attention)
    {
        var a = attention[0].detach().to(ScalarType.Float32).cpu();
        var (heads, queries, keys) = ((int)a.shape[0], (int)a.shape[1], (int)a.shape[2]);
        var flat = a.contiguous().data<float>().ToArray();
        return Enumerable.Range(0, heads).Select(h => Enumerable.Range(0, queries)
            .Select(q => flat.AsSpan((h * queries + q) * keys, keys).ToArray()).ToArray()).ToArray();
    }
}
