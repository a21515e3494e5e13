using Platform.Contracts;
using Platform.Tokenizers.Kinds;

namespace Platform.Tokenizers.Tests;

/// <summary>
/// The registry of tokenizer kinds: the names an upload may ask for, each kind's bounds, and training that is each
/// trainer's own, called as the services used to call it (the oracle: the trainer called directly).
/// </summary>
public class TokenizerKindTests
{
    private const string Text = "the cat sat on the mat\nthe dog sat on the log\n";
    private const string Held = "a cat and a dog\n";

    private static TokenizerCorpus Corpus(IReadOnlyList<string> specials) =>
        new(() => new StringReader(Text), () => new StringReader(Held), specials);

    [Fact]
    public void The_registry_names_the_kinds_an_upload_may_ask_for_and_checks_each_kinds_bounds()
    {
        Assert.Equal(["char", "bpe", "wordpiece"], TokenizerKindRegistry.All.Select(k => k.Name));
        Assert.All(TokenizerKindRegistry.All, k => Assert.False(string.IsNullOrWhiteSpace(k.Description)));

        Assert.Equal(["tokenizer.kind"], Validate(new TokenizerSpec { Kind = "sentencepiece" }).Fields);
        Assert.Equal(["tokenizer.kind"], Validate(new TokenizerSpec { Kind = TokenizerKinds.Uploaded }).Fields);
        // BPE needs its 256 bytes and its special tokens; WordPiece at least one token beside its specials.
        Assert.Equal(["tokenizer.vocabSize"], Validate(new TokenizerSpec { Kind = "bpe", VocabSize = 256 }).Fields);
        Assert.True(Validate(new TokenizerSpec { Kind = "bpe", VocabSize = 257 }).IsValid);
        Assert.Equal(["tokenizer.vocabSize"],
            Validate(new TokenizerSpec { Kind = "wordpiece", VocabSize = 5 }).Fields);
        Assert.Equal(["tokenizer.specialTokens"],
            Validate(new TokenizerSpec { Kind = "bpe", SpecialTokens = [""] }).Fields);
        // A char vocabulary has no size to bound.
        Assert.True(Validate(new TokenizerSpec { Kind = "char", VocabSize = 1 }).IsValid);
    }

    private static ValidationErrors Validate(TokenizerSpec spec) =>
        TokenizerKindRegistry.Validate(spec, "tokenizer", new ValidationErrors());

    [Fact]
    public void Each_kind_trains_as_its_trainer_does_with_the_formats_specials_first()
    {
        var bpe = new TokenizerSpec { Kind = "bpe", VocabSize = 270, MinFrequency = 1 };
        var text = TokenizerKindRegistry.Find("bpe")!.Train(bpe, Corpus([]));
        var direct = BpeTrainer.Train([new StringReader(Text)], 270, 1, ["<|endoftext|>"]);
        Assert.Equal(direct.Encode(Text + Held), text.Encode(Text + Held));
        Assert.Equal(direct.VocabSize, text.VocabSize);

        // A paired dataset's markers come first, then the spec's own specials, and BPE's default is not added.
        var paired = TokenizerKindRegistry.Find("bpe")!.Train(bpe with { SpecialTokens = ["<x>"] },
            Corpus(PairSpecialIds.Tokens));
        var pairedDirect = BpeTrainer.Train([new StringReader(Text)], 270, 1, [.. PairSpecialIds.Tokens, "<x>"]);
        Assert.Equal(pairedDirect.Encode(Text), paired.Encode(Text));
        Assert.Equal(pairedDirect.VocabSize, paired.VocabSize);

        // The char vocabulary covers the validation split too: "a", "n", "d" and "g" of Held are known.
        var chars = TokenizerKindRegistry.Find("char")!.Train(new TokenizerSpec { Kind = "char" }, Corpus([]));
        var charsDirect = CharTokenizer.Train([new StringReader(Text), new StringReader(Held)]);
        Assert.Equal(charsDirect.Encode(Held), chars.Encode(Held));

        var wordPiece = new TokenizerSpec { Kind = "wordpiece", VocabSize = 60, MinFrequency = 1 };
        var words = TokenizerKindRegistry.Find("wordpiece")!.Train(wordPiece, Corpus([]));
        var wordsDirect = WordPieceTrainer.Train([new StringReader(Text)], 60, true, 1, null);
        Assert.Equal(wordsDirect.Encode(Text + Held), words.Encode(Text + Held));
    }
}
