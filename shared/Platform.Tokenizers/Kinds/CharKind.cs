using Platform.Contracts;

namespace Platform.Tokenizers.Kinds;

public sealed class CharKind : TokenizerKind
{
    public override string Name => Contracts.TokenizerKinds.Char;
    public override string Description => "one token per character of the corpus";

    // The vocabulary covers both splits, so that no validation character is unknown.
    public override ITokenizer Train(TokenizerSpec spec, TokenizerCorpus corpus)
    {
        using TextReader train = corpus.Train(), validation = corpus.Validation();
        return CharTokenizer.Train([train, validation],
            corpus.RequiredSpecials.Count == 0 ? null : corpus.RequiredSpecials);
    }
}
