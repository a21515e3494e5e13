using System.Threading.Channels;
using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// One completion decoded by a <see cref="ContinuousBatcher"/>: its tokens arrive on <see cref="Tokens"/> as they are
/// sampled. The channel ends after MaxNewTokens tokens, when <see cref="Stop"/> was called, or with an
/// <see cref="OperationCanceledException"/> when the request was cancelled. Everything but the channel and the stop
/// flag belongs to the decoding thread.
/// </summary>
public sealed class DecodingSequence
{
    private readonly Channel<SampledToken> _tokens = Channel.CreateUnbounded<SampledToken>(
        new UnboundedChannelOptions { SingleWriter = true });
    private volatile bool _stopped;

    internal DecodingSequence(IReadOnlyList<int> prompt, SamplingOptions options, int blockSize, int vocabSize,
        Utf8Constraint? utf8,
        CancellationToken cancellationToken)
    {
        if (prompt.Count == 0)
            throw new ArgumentException("The prompt must hold at least one token.", nameof(prompt));
        Options = options;
        Context = [.. prompt];
        WindowStart = Math.Max(0, prompt.Count - blockSize);
        Generated = new int[vocabSize];
        Utf8 = options.ValidUtf8 ? utf8 : null;
        Utf8State = Utf8?.Mask.After(prompt) ?? Utf8TokenMask.Complete;
        CancellationToken = cancellationToken;
    }

    public ChannelReader<SampledToken> Tokens => _tokens.Reader;

    /// <summary>Ends the sequence before its next step (say, a stop string was found): its slot goes to waiting
    /// work.</summary>
    public void Stop() => _stopped = true;

    internal SamplingOptions Options { get; }
    internal CancellationToken CancellationToken { get; }
    internal bool Ended => _stopped || CancellationToken.IsCancellationRequested || Produced == Options.MaxNewTokens;

    /// <summary>Prompt and sampled tokens; the model sees Context[WindowStart..].</summary>
    internal List<int> Context { get; }
    internal int WindowStart { get; set; }
    /// <summary>Positions of the window held in the slot; 0 until its prefill (again) starts.</summary>
    internal int Cached { get; set; }
    /// <summary>Whether the window is prefilled and the sequence advances a token per step.</summary>
    internal bool Decoding { get; set; }
    internal int WindowLength => Context.Count - WindowStart;
    /// <summary>Drafts in a row that the sampler rejected from their first token.</summary>
    internal int DraftMisses { get; set; }
    /// <summary>Steps to go before the next draft.</summary>
    internal int DraftWait { get; set; }
    internal int Produced { get; private set; }
    internal int Slot { get; set; } = -1;
    internal int[] Generated { get; }
    internal Utf8Constraint? Utf8 { get; }
    internal int Utf8State { get; private set; }
    internal Generator? Generator { get; set; }

    internal void Add(SampledToken token)
    {
        Context.Add(token.Id);
        Generated[token.Id]++;
        Produced++;
        if (Utf8 is not null)
            Utf8State = Utf8.Mask.Next(Utf8State, token.Id);
        Options.Grammar?.Advance(token.Id);
        _tokens.Writer.TryWrite(token);
    }

    /// <summary>Closes the channel: normally, cancelled, or with the decoding error.</summary>
    internal void End(Exception? error = null)
    {
        Generator?.Dispose();
        Generator = null;
        _tokens.Writer.TryComplete(error
            ?? (CancellationToken.IsCancellationRequested ? new OperationCanceledException(CancellationToken) : null));
    }
}
