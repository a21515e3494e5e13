using System.Text;
using Platform.Tokenizers;

namespace Platform.Tokenizers.Tests;

/// <summary>
/// BPE encoding merges by a priority queue over a linked list of symbols. The oracle is the textbook algorithm
/// (find the lowest-ranked adjacent pair, merge each occurrence left to right, repeat), written out here.
/// </summary>
public class BpeMergeTests
{
    private static readonly Lazy<BpeTokenizer> Trained =
        new(() => BpeTrainer.Train([new StringReader(DemoCorpus.Text)], 2048, specialTokens: ["<|endoftext|>"]));

    /// <summary>The textbook merge over one pre-token's byte ids: quadratic, and obviously right.</summary>
    private static List<int> TextbookMerge(BpeTokenizer tokenizer, string piece)
    {
        var tokenToId = tokenizer.Vocabulary.Select((token, id) => (token, id)).ToDictionary(p => p.token, p => p.id);
        var rank = tokenizer.Merges.Select((m, r) => (m, r))
            .ToDictionary(p => (tokenToId[p.m.Left], tokenToId[p.m.Right]),
                p => (p.r, tokenToId[p.m.Left + p.m.Right]));
        var symbols = Encoding.UTF8.GetBytes(piece).Select(b => tokenToId[ByteLevel.ByteToChar[b].ToString()]).ToList();
        while (true)
        {
            var best = symbols.Zip(symbols.Skip(1)).Where(p => rank.ContainsKey(p))
                .Select(p => (Pair: p, Rank: rank[p].r)).DefaultIfEmpty((Pair: (0, 0), Rank: int.MaxValue))
                .MinBy(p => p.Rank);
            if (best.Rank == int.MaxValue)
                return symbols;
            for (var i = 0; i + 1 < symbols.Count; i++)
                if ((symbols[i], symbols[i + 1]) == best.Pair)
                {
                    symbols[i] = rank[best.Pair].Item2;
                    symbols.RemoveAt(i + 1);
                }
        }
    }

    [Fact]
    public void Two_thousand_pieces_encode_as_the_textbook_algorithm_does()
    {
        var tokenizer = Trained.Value;
        var random = new Random(7);
        var words = DemoCorpus.Text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        for (var n = 0; n < 2000; n++)
        {
            // Corpus words, runs of one letter pair, and random lower-case letters (up to 300 long).
            var piece = (n % 3) switch
            {
                0 => words[random.Next(words.Length)].Trim(',', '.', ';', ':', '!', '?', '\''),
                1 => string.Concat(Enumerable.Repeat("th", random.Next(1, 150))),
                _ => new string([.. Enumerable.Range(0, random.Next(1, 300))
                    .Select(_ => (char)('a' + random.Next(26)))]),
            };
            if (piece.Length == 0 || !piece.All(char.IsLetter))
                continue;
            Assert.Equal(TextbookMerge(tokenizer, piece), tokenizer.Encode(piece));
        }
    }

    [Fact]
    public void A_piece_longer_than_the_bound_is_encoded_in_parts_cut_between_characters_and_decodes_exactly()
    {
        var tokenizer = Trained.Value;
        // 'é' is two bytes: 40,000 of them put the 65,536-byte cut in the middle of one, which the cut must avoid.
        var piece = new string('é', 40_000);
        var ids = tokenizer.Encode(piece);
        var firstPart = new string('é', BpeTokenizer.MaxPieceBytes / 2);
        var secondPart = new string('é', 40_000 - BpeTokenizer.MaxPieceBytes / 2);
        Assert.Equal(tokenizer.Encode(firstPart).Concat(tokenizer.Encode(secondPart)), ids);
        Assert.Equal(piece, tokenizer.Decode(ids));
        var odd = "x" + piece;
        Assert.Equal(odd, tokenizer.Decode(tokenizer.Encode(odd)));
    }

    [Fact]
    public async Task Four_megabytes_without_a_space_encode_in_well_under_a_minute()
    {
        // A denial-of-service guard with a wide margin, not a timing: merging by rescanning the piece for each rank in
        // turn is quadratic in its length and far past a minute on this piece (docs/benchmarks.md has the figures).
        var random = new Random(11);
        var text = new string([.. Enumerable.Range(0, 4_000_000).Select(_ => (char)('a' + random.Next(26)))]);
        var encoding = Task.Run(() => Trained.Value.Encode(text));
        Assert.True(await Task.WhenAny(encoding, Task.Delay(TimeSpan.FromMinutes(1))) == encoding,
            "4 MB of letters without a space took more than a minute to encode");
        Assert.Equal(text, Trained.Value.Decode(await encoding));
    }

    [Fact]
    public void Encoding_stops_when_cancelled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => Trained.Value.Encode("any text at all", cancelled.Token));
    }
}
