using Platform.ML;
using Platform.Tokenizers;

namespace Generation.Serving;

/// <summary>
/// Turns sampled tokens into text: decodes each token as it comes (<see cref="IncrementalDecoder"/>: linear in the
/// completion's length), ends at the first stop string (searched in the new text and the overlap before it, so one
/// spanning token boundaries is caught) and yields only text that can no longer change: a tail that could still become
/// a stop string, or an incomplete UTF-8 character, is held back. The deltas
/// therefore concatenate to exactly the final text. An encoder-decoder decodes its source greedily, by sampling, or
/// with beam search (whose tokens are known only at the end, so its text comes in one piece); it finishes with "stop"
/// when it produces &lt;/s&gt;. A chat reply ends, with "stop", at <paramref name="endToken"/> (the template's end
/// marker), which is counted but not part of the text.
/// </summary>
/// <param name="packedDecoder">An encoder-decoder's decoder packed for decoding (null: LibTorch's products).</param>
public sealed class CompletionRunner(LoadedModel loaded, IReadOnlyList<string> stop, GenerationMetrics? metrics = null,
    int? endToken = null, PackedEncoderDecoder? packedDecoder = null)
{
    private readonly int _holdBack = stop.Count == 0 ? 0 : stop.Max(s => s.Length) - 1;

    public string Text { get; private set; } = "";
    public string FinishReason { get; private set; } = "length";
    public List<SampledToken> Tokens { get; } = [];

    private IEnumerable<SampledToken> Decode(int[] prompt, SamplingOptions sampling, BeamSearchOptions? beam,
        CancellationToken cancellationToken)
    {
        var model = loaded.EncoderDecoder
            ?? throw new InvalidOperationException("A GPT decodes in its continuous batch (RunAsync).");
        using var session = new EncoderDecoderSession(model, prompt, packed: packedDecoder);
        var specials = model.Config.TargetSpecials;
        // The decoder has MaxTargetLength positions, <s> included.
        var room = Math.Min(sampling.MaxNewTokens, model.Config.MaxTargetLength - 1);
        if (beam is not null)
        {
            var result = BeamSearch.Search(session, specials,
                beam with { MaxNewTokens = Math.Min(beam.MaxNewTokens, room) }, cancellationToken);
            for (var i = 0; i < result.Tokens.Length; i++)
                yield return new SampledToken(result.Tokens[i], result.LogProbabilities[i]);
            _ended = result.Finished;
            yield break;
        }
        var count = 0;
        foreach (var token in Seq2SeqGeneration.Stream(session, specials, sampling with { MaxNewTokens = room },
            cancellationToken))
        {
            count++;
            yield return token;
        }
        _ended = count < room;
    }

    private bool _ended;

    /// <summary>An encoder-decoder's completion, decoded on the calling thread; yields text deltas.</summary>
    public IEnumerable<string> Run(int[] prompt, SamplingOptions sampling, CancellationToken cancellationToken,
        BeamSearchOptions? beam = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var token in Decode(prompt, sampling, beam, cancellationToken))
        {
            var (piece, stopped) = Accept(token, clock);
            if (piece is not null)
                yield return piece;
            if (stopped)
                yield break;
        }
        if (Finish() is { } rest)
            yield return rest;
    }

    /// <summary>
    /// A GPT's completion, its tokens read from its sequence in a continuous batch as they are sampled; yields text
    /// deltas. A stop string ends the sequence, which frees its slot at the batch's next step.
    /// </summary>
    public async IAsyncEnumerable<string> RunAsync(DecodingSequence sequence,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await foreach (var token in sequence.Tokens.ReadAllAsync(cancellationToken))
            {
                var (piece, stopped) = Accept(token, clock);
                if (piece is not null)
                    yield return piece;
                if (stopped)
                    yield break;
            }
        }
        finally
        {
            // Also when the reader leaves early (a stop string, a disconnect): the batch drops the sequence.
            sequence.Stop();
        }
        if (Finish() is { } rest)
            yield return rest;
    }

    private TimeSpan _previous;

    private (string? Piece, bool Stopped) Accept(SampledToken token, System.Diagnostics.Stopwatch clock)
    {
        var now = clock.Elapsed;
        if (Tokens.Count == 0)
            metrics?.FirstToken(now);
        else
            metrics?.NextToken(now - _previous);
        _previous = now;
        metrics?.Token();
        Tokens.Add(token);
        if (token.Id == endToken)
        {
            _ended = true;
            return (Finish(), true);
        }
        return _decoder.Add(token.Id).Length == 0 ? (null, false) : Advance(final: false);
    }

    private string? Finish()
    {
        _decoder.Flush();
        return Advance(final: true).Piece;
    }

    private readonly IncrementalDecoder _decoder = new(loaded.Tokenizer);
    private int _emitted, _searched;

    /// <summary>
    /// After new text: ends the completion at a stop string in it (the text before the stop is the last piece), or
    /// releases what can no longer change: all but a tail that could still begin a stop string, or all of it once
    /// <paramref name="final"/>.
    /// </summary>
    private (string? Piece, bool Stopped) Advance(bool final)
    {
        var text = _decoder.Text;
        var stopped = false;
        int end;
        if (Stopped(text) is { } cut)
            (Text, FinishReason, end, stopped) = (text.ToString(0, cut), "stop", cut, true);
        else if (final)
        {
            (Text, end) = (text.ToString(), text.Length);
            if (_ended)
                FinishReason = "stop";
        }
        else
            end = text.Length - _holdBack;
        if (end <= _emitted)
            return (null, stopped);
        var piece = text.ToString(_emitted, end - _emitted);
        _emitted = end;
        return (piece, stopped);
    }

    /// <summary>
    /// Where the first stop string begins, looking only at text not searched before (and the stop length's overlap with
    /// it), so the whole completion is searched once, not once per token.
    /// </summary>
    private int? Stopped(System.Text.StringBuilder text)
    {
        if (stop.Count == 0)
            return null;
        var from = Math.Max(0, _searched - _holdBack);
        _searched = text.Length;
        return FirstStop(text.ToString(from, text.Length - from)) is { } at ? from + at : null;
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
