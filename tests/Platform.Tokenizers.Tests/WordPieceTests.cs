using System.Text;
using Microsoft.ML.Tokenizers;
using Platform.Tokenizers;

namespace Platform.Tokenizers.Tests;

public class WordPieceTests
{
    private static readonly string Demo = DemoCorpus.Text;
    private static readonly Lazy<WordPieceTokenizer> Trained = new(() =>
        WordPieceTrainer.Train([new StringReader(Demo)], 3000));

    [Fact]
    public void Words_split_into_the_longest_pieces_with_continuation_prefixes()
    {
        var tokenizer = new WordPieceTokenizer(["[PAD]", "[UNK]", "un", "##aff", "##able", "aff", "!", "##a"],
            lowercase: true);
        Assert.Equal(new[] { 2, 3, 4, 6 }, tokenizer.Encode("UnAffable!"));
        Assert.Equal(new[] { 1 }, tokenizer.Encode("xyz"));
        // Hugging Face's WordPiece decoder (cleanup on) gives "unaffable!" for BERT's tokens un ##aff ##able !.
        Assert.Equal("unaffable!", tokenizer.Decode(tokenizer.Encode("UnAffable!")));
    }

    [Fact]
    public void Normalisation_lowercases_strips_accents_and_splits_punctuation_and_CJK()
    {
        var words = BertPreTokenization.Split(BertPreTokenization.Normalise("Héllo,  Wörld!漢字\tend",
            lowercase: true)).ToList();
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
        // Decoding restores the words (spacing around punctuation follows Hugging Face's clean-up, so compare words).
        var words = BertPreTokenization.Split(BertPreTokenization.Normalise(sample, true));
        Assert.Equal(words, BertPreTokenization.Split(BertPreTokenization.Normalise(tokenizer.Decode(ids), true)));
    }

    private const string Bilingual = """
        大模型的训练需要大量的数据和计算资源。我们用GPU训练模型，然后评估它的准确率和召回率。
        The model learns from text, then it writes new text. It is evaluated by accuracy and recall.
        我喜欢用中文写作，也喜欢读英文书。Transformer模型由编码器和解码器组成。
        Data privacy matters: personal data is removed before training, and costs are tracked.
        """;

    [Theory]
    [InlineData("我喜欢大模型。")]
    [InlineData("我们用GPU训练模型，然后评估它的准确率和召回率。")]
    [InlineData("The model learns from text, then it writes new text.")]
    [InlineData("大模型的训练需要数据。The model learns, and it is evaluated by accuracy.")]
    [InlineData("Transformer模型由编码器和解码器组成。")]
    public void Mixed_Chinese_and_English_text_decodes_back_without_spaces_between_Chinese_characters(string text)
    {
        var tokenizer = WordPieceTrainer.Train([new StringReader(string.Concat(Enumerable.Repeat(Bilingual, 20)))], 500,
            lowercase: false);
        var ids = tokenizer.Encode(text);
        Assert.DoesNotContain(1, ids); // [UNK]: every character was seen
        Assert.Equal(text, tokenizer.Decode(ids));
    }

    [Fact]
    public void Generated_Chinese_pieces_join_without_spaces_and_English_words_keep_theirs()
    {
        var tokenizer = new WordPieceTokenizer(["[PAD]", "[UNK]", "我", "，", "和", "大", "模", "型", "。", "large", "model",
            "##s", "GPU"], lowercase: false);
        Assert.Equal("我，和大模型。", tokenizer.Decode([2, 3, 4, 5, 6, 7, 8]));
        Assert.Equal("large models", tokenizer.Decode([9, 10, 11]));
        Assert.Equal("大模型GPU和large models。", tokenizer.Decode([5, 6, 7, 12, 4, 9, 10, 11, 8]));
    }

    [Fact]
    public void Tokenizer_json_round_trips_and_the_same_corpus_gives_the_same_file()
    {
        static byte[] Save(ITokenizer t)
        { using var s = new MemoryStream(); t.Save(s); return s.ToArray(); }
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
        var at = Enumerable.Range(0, Math.Min(expected.Count, actual.Length)).FirstOrDefault(i =>
            expected[i] != actual[i]);
        Assert.True(expected.SequenceEqual(actual),
            $"first difference at {at}: theirs " +
            $"{string.Join(" ", expected.Skip(at - 3).Take(8).Select(i => ours.Vocabulary[i]))} | ours " +
            $"{string.Join(" ", actual.Skip(at - 3).Take(8).Select(i => ours.Vocabulary[i]))}");
    }
}
