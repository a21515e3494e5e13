using Platform.ML;

namespace Generation.Serving;

/// <summary>
/// Turns sampled tokens into text: decodes the completion so far after each token, ends at the first stop string
/// (found in the text, so one spanning token boundaries is caught) and yields only text that can no longer change:
/// a tail that could still become a stop string, or an incomplete UTF-8 character, is held back. The deltas
/// therefore concatenate to exactly the final text. An encoder-decoder decodes its source greedily, by sampling, or
/// with beam search (whose tokens are known only at the end, so its text comes in one piece); it finishes with "stop"
/// when it produces &lt;/s&gt;.
/// </summary>
public sealed class CompletionRunner(LoadedModel loaded, IReadOnlyList<string> stop, GenerationMetrics? metrics = null)
{
    private readonly int _holdBack = stop.Count == 0 ? 0 : stop.Max(s => s.Length) - 1;

    public string Text { get; private set; } = "";
    public string FinishReason { get; private set; } = "length";
    public List<SampledToken> Tokens { get; } = [];

    /// <summary>Decodes the whole completion on a worker thread (native work stays off the request's context).</summary>
    public Task RunToEndAsync(int[] prompt, SamplingOptions sampling, CancellationToken cancellationToken, BeamSearchOptions? beam = null) =>
        Task.Run(() =>
        {
            foreach (var _ in Run(prompt, sampling, cancellationToken, beam)) { }
        }, cancellationToken);

    private IEnumerable<SampledToken> Decode(int[] prompt, SamplingOptions sampling, BeamSearchOptions? beam, CancellationToken cancellationToken)
    {
        if (loaded.EncoderDecoder is not { } model)
        {
            foreach (var token in Sampler.Stream(loaded.Model, prompt, sampling, cancellationToken, utf8: loaded.Utf8, adapter: loaded.Adapter))
                yield return token;
            yield break;
        }
        using var session = new EncoderDecoderSession(model, prompt);
        var specials = model.Config.TargetSpecials;
        // The decoder has MaxTargetLength positions, <s> included.
        var room = Math.Min(sampling.MaxNewTokens, model.Config.MaxTargetLength - 1);
        if (beam is not null)
        {
            var result = BeamSearch.Search(session, specials, beam with { MaxNewTokens = Math.Min(beam.MaxNewTokens, room) }, cancellationToken);
            for (var i = 0; i < result.Tokens.Length; i++)
                yield return new SampledToken(result.Tokens[i], result.LogProbabilities[i]);
            _ended = result.Finished;
            yield break;
        }
        var count = 0;
        foreach (var token in Seq2SeqGeneration.Stream(session, specials, sampling with { MaxNewTokens = room }, cancellationToken))
        {
            count++;
            yield return token;
        }
        _ended = count < room;
    }

    private bool _ended;

    public IEnumerable<string> Run(int[] prompt, SamplingOptions sampling, CancellationToken cancellationToken, BeamSearchOptions? beam = null)
    {
        var ids = new List<int>();
        var emitted = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var previous = TimeSpan.Zero;
        foreach (var token in Decode(prompt, sampling, beam, cancellationToken))
        {
            var now = clock.Elapsed;
            if (Tokens.Count == 0)
                metrics?.FirstToken(now);
            else
                metrics?.NextToken(now - previous);
            previous = now;
            metrics?.Token();
            Tokens.Add(token);
            ids.Add(token.Id);
            var text = loaded.Tokenizer.Decode(ids);
            if (FirstStop(text) is { } cut)
            {
                (Text, FinishReason) = (text[..cut], "stop");
                if (cut > emitted)
                    yield return text[emitted..cut];
                yield break;
            }
            var safe = text.Length - _holdBack;
            while (safe > emitted && text[safe - 1] == '\uFFFD')
                safe--;
            if (safe > emitted)
            {
                yield return text[emitted..safe];
                emitted = safe;
            }
            Text = text;
        }
        if (_ended)
            FinishReason = "stop";
        if (Text.Length > emitted)
            yield return Text[emitted..];
    }

    private int? FirstStop(string text)
    {
        int? first = null;
        foreach (var s in stop)
            if (text.IndexOf(s, StringComparison.Ordinal) is >= 0 and var at && (first is null || at < first))
                first = at;
        return first;
    }
}
