using Platform.Contracts;

namespace Platform.Tokenizers.Kinds;

public sealed class WordPieceKind : TokenizerKind
{
    public override string Name => Contracts.TokenizerKinds.WordPiece;
    public override string Description => "WordPiece, as BERT's: whole words and ## pieces, [UNK] for the rest";

    // A token beside its special tokens at the least; its real floor also depends on the corpus's alphabet, which only
    // training sees.
    public override void Validate(TokenizerSpec spec, string field, ValidationErrors errors) =>
        ValidateLearnedVocabulary(spec, field, errors, 1 + (spec.SpecialTokens?.Count ?? 5));

    // Learns from the train split only. Text keeps the spec's specials (BERT's five by default); a paired dataset's
    // markers come first, then [UNK], then the spec's own.
    public override ITokenizer Train(TokenizerSpec spec, TokenizerCorpus corpus)
    {
        using var train = corpus.Train();
        var specials = corpus.RequiredSpecials.Count == 0
            ? spec.SpecialTokens
            : [.. corpus.RequiredSpecials, WordPieceTokenizer.UnknownToken,
                .. (spec.SpecialTokens ?? []).Where(t => t != WordPieceTokenizer.UnknownToken)];
        return WordPieceTrainer.Train([train], spec.VocabSize, spec.Lowercase, spec.MinFrequency, specials);
    }
}
