using Platform.Contracts;

namespace Platform.Tokenizers.Kinds;

public sealed class BpeKind : TokenizerKind
{
    public override string Name => Contracts.TokenizerKinds.Bpe;
    public override string Description => "byte-level BPE, as GPT-2's: any text encodes, byte by byte at worst";

    // Its 256 byte tokens and its special tokens at the least.
    public override void Validate(TokenizerSpec spec, string field, ValidationErrors errors) =>
        ValidateLearnedVocabulary(spec, field, errors, 256 + (spec.SpecialTokens?.Count ?? 1));

    // Learns from the train split only; byte fallback encodes anything the validation split holds. Text gets
    // <|endoftext|> unless the spec names its own specials; a paired dataset's markers come first.
    public override ITokenizer Train(TokenizerSpec spec, TokenizerCorpus corpus)
    {
        using var train = corpus.Train();
        IReadOnlyList<string> specials = corpus.RequiredSpecials.Count == 0
            ? spec.SpecialTokens ?? ["<|endoftext|>"]
            : [.. corpus.RequiredSpecials, .. spec.SpecialTokens ?? []];
        return BpeTrainer.Train([train], spec.VocabSize, spec.MinFrequency, specials);
    }
}
