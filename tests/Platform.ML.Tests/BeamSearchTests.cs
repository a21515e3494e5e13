using Platform.Tokenizers;
using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class BeamSearchTests
{
    private static readonly PairSpecialIds Specials = new(0, 1, 2);

    /// <summary>
    /// A toy model whose next-token distribution depends only on the last token (a Markov chain over
    /// &lt;pad&gt;, &lt;s&gt;, &lt;/s&gt;, a = 3, b = 4), so every sequence's probability can be worked out by hand.
    /// </summary>
    private sealed class MarkovSession(Dictionary<int, double[]> table) : IDecodingSession
    {
        public List<long[]> Reorders { get; } = [];
        public int VocabSize => 5;

        public Tensor NextLogits(IReadOnlyList<IReadOnlyList<int>> rows) =>
            tensor(rows.SelectMany(r => table[r[^1]].Select(p => (float)Math.Log(p))).ToArray(), [rows.Count, 5]);

        public void Reorder(long[] rows) => Reorders.Add(rows);
        public void Dispose() { }
    }

    // From <s>: a 0.6, b 0.4. After a: a, b and </s> equally likely. After b: </s> 0.9.
    private static MarkovSession Toy() => new(new()
    {
        [1] = [1e-9, 1e-9, 1e-9, 0.6, 0.4],
        [3] = [1e-9, 1e-9, 1.0 / 3, 1.0 / 3, 1.0 / 3],
        [4] = [1e-9, 1e-9, 0.9, 0.05, 0.05],
    });

    [Fact]
    public void Beam_search_finds_the_most_likely_sequence_that_greedy_decoding_misses()
    {
        // By hand: "b </s>" has probability 0.4 · 0.9 = 0.36; the best sequence starting with a is "a </s>" at 0.6 ·
        // 1/3 = 0.2.
        var greedy = BeamSearch.Search(Toy(), Specials, new BeamSearchOptions(1, 5, LengthPenalty: 0));
        Assert.Equal(3, greedy.Tokens[0]);
        var beam = BeamSearch.Search(Toy(), Specials, new BeamSearchOptions(2, 5, LengthPenalty: 0));
        Assert.Equal([4], beam.Tokens);
        Assert.True(beam.Finished);
        Assert.Equal(Math.Log(0.36), beam.Score, 6);
    }

    [Fact]
    public void Length_penalty_divides_by_the_length_including_the_end_token()
    {
        var beam = BeamSearch.Search(Toy(), Specials, new BeamSearchOptions(2, 5, LengthPenalty: 1.0));
        Assert.Equal([4], beam.Tokens);
        Assert.Equal(Math.Log(0.36) / 2, beam.Score, 6);
    }

    [Fact]
    public void No_repeat_ngram_size_forbids_a_repeated_ngram()
    {
        // A chain that would rather repeat "a b" forever: after a, b 0.9; after b, a 0.9.
        var session = new MarkovSession(new()
        {
            [1] = [1e-9, 1e-9, 1e-9, 0.9, 0.1],
            [3] = [1e-9, 1e-9, 0.05, 0.05, 0.9],
            [4] = [1e-9, 1e-9, 0.05, 0.9, 0.05],
        });
        var free = BeamSearch.Search(session, Specials, new BeamSearchOptions(2, 6, LengthPenalty: 0));
        Assert.Equal([3, 4, 3, 4, 3, 4], free.Tokens);
        var limited = BeamSearch.Search(session, Specials,
            new BeamSearchOptions(2, 6, LengthPenalty: 0, NoRepeatNgramSize: 2));
        var bigrams = limited.Tokens.Zip(limited.Tokens.Skip(1)).ToList();
        Assert.Equal(bigrams.Count, bigrams.Distinct().Count());
    }

    [Fact]
    public void Early_stopping_ends_once_enough_hypotheses_have_finished()
    {
        var session = Toy();
        BeamSearch.Search(session, Specials, new BeamSearchOptions(2, 50, LengthPenalty: 1.0, EarlyStopping: true));
        Assert.True(session.Reorders.Count < 5, $"{session.Reorders.Count} steps");
    }
}
