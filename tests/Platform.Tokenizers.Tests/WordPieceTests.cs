using System.Text;
using Microsoft.ML.Tokenizers;
using Platform.Tokenizers;

namespace Platform.Tokenizers.Tests;

public class WordPieceTests
{
    private static readonly string Demo = DemoCorpus.Text;
    private static readonly Lazy<WordPieceTokenizer> Trained = new(() => WordPieceTrainer.Train([new StringReader(Demo)], 3000));

    [Fact]
    public void Words_split_into_the_longest_pieces_with_continuation_prefixes()
    {
        var tokenizer = new WordPieceTokenizer(["[PAD]", "[UNK]", "un", "##aff", "##able", "aff", "!", "##a"], lowercase: true);
        Assert.Equal(new[] { 2, 3, 4, 6 }, tokenizer.Encode("UnAffable!"));
        Assert.Equal(new[] { 1 }, tokenizer.Encode("xyz"));
        Assert.Equal("unaffable !", tokenizer.Decode(tokenizer.Encode("UnAffable!")));
    }

    [Fact]
    public void Normalisation_lowercases_strips_accents_and_splits_punctuation_and_CJK()
    {
        var words = BertPreTokenization.Split(BertPreTokenization.Normalise("Héllo,  Wörld!漢字\tend", lowercase: true)).ToList();
        Assert.Equal(new[] { "hello", ",", "world", "!", "漢", "字", "end" }, words);
    }

    [Fact]
    public void Trained_vocabulary_encodes_the_corpus_it_learned_from_without_unknowns_and_decodes_its_words()
    {
        var tokenizer = Trained.Value;
        Assert.InRange(tokenizer.VocabSize, 2500, 3000);
        var sample = Demo[..20_000];
        var ids = tokenizer.Encode(sample);
        Assert.DoesNotContain(1, ids); // [UNK]
        Assert.True(ids.Length < BertPreTokenization.Split(BertPreTokenization.Normalise(sample, true)).Count() * 1.5);
        var words = BertPreTokenization.Split(BertPreTokenization.Normalise(sample, true));
        Assert.Equal(string.Join(' ', words), tokenizer.Decode(ids));
    }

    [Fact]
    public void Tokenizer_json_round_trips_and_the_same_corpus_gives_the_same_file()
    {
        static byte[] Save(ITokenizer t) { using var s = new MemoryStream(); t.Save(s); return s.ToArray(); }
        var file = Save(Trained.Value);
        Assert.Equal(file, Save(WordPieceTrainer.Train([new StringReader(Demo)], 3000)));
        var loaded = TokenizerFile.Load(new MemoryStream(file));
        Assert.Equal("wordpiece", loaded.Kind);
        Assert.Equal(Trained.Value.Encode(Demo[..50_000]), loaded.Encode(Demo[..50_000]));
        Assert.Contains("\"type\":\"WordPiece\"", Encoding.UTF8.GetString(file));
    }

    [Fact]
    public void Microsofts_Bert_tokenizer_with_our_vocabulary_gives_our_ids()
    {
        var ours = Trained.Value;
        var vocab = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', ours.Vocabulary) + "\n"));
        var reference = BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = true });
        // Microsoft's BertTokenizer drops newlines where BERT's normaliser (and ours) turns them into spaces, so
        // "they\nwould" would compare two different inputs: compare on the corpus with newlines as spaces.
        var text = Demo[..200_000].Replace('\n', ' ');
        var expected = reference.EncodeToIds(text, addSpecialTokens: false);
        var actual = ours.Encode(text);
        var at = Enumerable.Range(0, Math.Min(expected.Count, actual.Length)).FirstOrDefault(i => expected[i] != actual[i]);
        Assert.True(expected.SequenceEqual(actual), $"first difference at {at}: theirs {string.Join(" ", expected.Skip(at - 3).Take(8).Select(i => ours.Vocabulary[i]))} | ours {string.Join(" ", actual.Skip(at - 3).Take(8).Select(i => ours.Vocabulary[i]))}");
    }
}
