using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Platform.ML;
using Platform.Tokenizers.Structured;

namespace Generation.Serving;

/// <summary>A piece of completion <paramref name="Index"/>'s text; the last piece of each is empty and carries its
/// finish reason.</summary>
public readonly record struct CompletionDelta(int Index, string Text, string? FinishReason);

/// <summary>
/// Where a request's completions decode: a GPT's n completions join its model's continuous batch together and decode
/// side by side; an encoder-decoder's decode one after another in a slot of the <see cref="GenerationGate"/>.
/// </summary>
public sealed class CompletionScheduler(ModelBatchers batchers, GenerationGate gate)
{
    /// <summary>
    /// The request's n completions under way (each with its own seed: the request's, or a random one, plus its index),
    /// or null when the batch (or the gate) and its queue are full: answer 429.
    /// </summary>
    public async Task<RunningCompletions?> StartAsync(ResolvedModel resolved, int[] prompt, SamplingRequest request,
        BeamSearchOptions? beam,
        CancellationToken cancellationToken)
    {
        var loaded = resolved.Loaded;
        var seed = request.Seed ?? Random.Shared.NextInt64(0, int.MaxValue);
        var completions = Enumerable.Range(0, request.N ?? 1).Select(index => request.ToOptions(seed, index) with
        {
            Grammar = request.Grammar is { } grammar
                ? new GrammarConstraint(grammar, TokenTrie.For(loaded.Tokenizer), request.EndToken!.Value)
                : null,
        }).ToArray();
        var stop = request.Stop ?? [];
        var runners = completions.Select(_ => new CompletionRunner(loaded, stop, gate.Metrics, request.EndToken,
            batchers.PackedDecoder(loaded))).ToArray();
        if (loaded.EncoderDecoder is null)
        {
            var int8 = resolved.Model.Quantization == Platform.Contracts.Quantizations.Int8;
            if (batchers.For(loaded, int8).TrySubmit(prompt, completions, cancellationToken) is not { } sequences)
            {
                gate.Metrics.Rejected();
                return null;
            }
            return new RunningCompletions(seed, runners, (writer, token) =>
                Task.WhenAll(runners.Select((runner, index) =>
                PumpAsync(runner.RunAsync(sequences[index], token), index, runner, writer))));
        }

        if (gate.TryAdmit() is not { } ticket)
            return null;
        try
        {
            await ticket.StartAsync(cancellationToken);
        }
        catch
        {
            ticket.Dispose();
            throw;
        }
        // Native decoding stays off the request's context; the ticket is given back however it ends.
        return new RunningCompletions(seed, runners, (writer, token) => Task.Run(() =>
        {
            using (ticket)
                for (var index = 0; index < runners.Length; index++)
                {
                    foreach (var delta in runners[index].Run(prompt, completions[index], token, beam))
                        writer.TryWrite(new CompletionDelta(index, delta, null));
                    writer.TryWrite(new CompletionDelta(index, "", runners[index].FinishReason));
                }
        }, CancellationToken.None));
    }

    private static async Task PumpAsync(IAsyncEnumerable<string> deltas, int index, CompletionRunner runner,
        ChannelWriter<CompletionDelta> writer)
    {
        await foreach (var delta in deltas)
            writer.TryWrite(new CompletionDelta(index, delta, null));
        writer.TryWrite(new CompletionDelta(index, "", runner.FinishReason));
    }
}

/// <summary>A request's completions as they decode: read their deltas once, then each runner's text, tokens and finish
/// reason.</summary>
public sealed class RunningCompletions(long seed, IReadOnlyList<CompletionRunner> runners,
    Func<ChannelWriter<CompletionDelta>, CancellationToken, Task> produce)
{
    /// <summary>The seed of the first completion (completion i has seed + i).</summary>
    public long Seed { get; } = seed;
    public IReadOnlyList<CompletionRunner> Runners { get; } = runners;

    public async IAsyncEnumerable<CompletionDelta> ReadAllAsync(
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var deltas = Channel.CreateUnbounded<CompletionDelta>();
        // produce returns at its first wait (the batch's channel, or the encoder-decoder's worker thread).
        var producer = ProduceAsync();
        await foreach (var delta in deltas.Reader.ReadAllAsync(cancellationToken))
            yield return delta;
        await producer;

        async Task ProduceAsync()
        {
            try
            {
                await produce(deltas.Writer, cancellationToken);
                deltas.Writer.Complete();
            }
            catch (Exception ex)
            {
                deltas.Writer.Complete(ex);
            }
        }
    }

    public async Task RunToEndAsync(CancellationToken cancellationToken)
    {
        await foreach (var _ in ReadAllAsync(cancellationToken))
        { }
    }
}
