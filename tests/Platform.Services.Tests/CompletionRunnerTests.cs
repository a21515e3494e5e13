using Generation.Serving;
using Platform.ML;
using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.Services.Tests;

/// <summary>A GPT completion read from a real continuous batch: stop strings, deltas, and the slot a stop
/// frees.</summary>
public class CompletionRunnerTests
{
    private static (LoadedModel Loaded, ContinuousBatcher Batcher) Serve()
    {
        var tokenizer = CharTokenizer.Train([new StringReader("abcdefghij klmnop")]);
        manual_seed(5);
        var model = new Gpt(new GptConfig(tokenizer.VocabSize, 32, 1, 2, 16));
        model.eval();
        var loaded = new LoadedModel(model, tokenizer);
        return (loaded, new ContinuousBatcher(model, null, null, new ContinuousBatchingOptions { MaxSequences = 1 }));
    }

    private static async Task<(string Text, List<string> Deltas,
        CompletionRunner Runner)> CompleteAsync(LoadedModel loaded, ContinuousBatcher batcher,
        IReadOnlyList<string> stop, int maxTokens)
    {
        var runner = new CompletionRunner(loaded, stop);
        var sequence = batcher.TrySubmit(loaded.Tokenizer.Encode("abc"),
            [new SamplingOptions(maxTokens, 1.0, Seed: 7)])![0];
        var deltas = new List<string>();
        await foreach (var delta in runner.RunAsync(sequence, CancellationToken.None))
            deltas.Add(delta);
        return (runner.Text, deltas, runner);
    }

    // A slot that is never freed would leave the last request waiting: the timeout turns that into a failure.
    [Fact(Timeout = 120_000)]
    public async Task A_stop_string_ends_the_completion_before_it_and_frees_the_slot_for_the_next_request()
    {
        var (loaded, batcher) = Serve();
        using (loaded)
        using (batcher)
        {
            // Oracle: the same seed without a stop string, cut by hand at the first occurrence of a 2-character stop.
            var (whole, wholeDeltas, free) = await CompleteAsync(loaded, batcher, [], 60);
            Assert.Equal(60, whole.Length);
            Assert.Equal(whole, string.Concat(wholeDeltas));
            Assert.Equal("length", free.FinishReason);
            var stop = whole.Substring(20, 2);
            var expected = whole[..whole.IndexOf(stop, StringComparison.Ordinal)];

            // The batch has one slot: the stopped request must give it up for the next one to run at all.
            var (text, deltas, runner) = await CompleteAsync(loaded, batcher, [stop], 1_000_000);
            Assert.Equal(expected, text);
            Assert.Equal(expected, string.Concat(deltas));
            Assert.Equal("stop", runner.FinishReason);
            var (again, _, _) = await CompleteAsync(loaded, batcher, [], 60);
            Assert.Equal(whole, again);
        }
    }
}
