using Platform.Contracts;

namespace Platform.Tokenizers.Kinds;

/// <summary>
/// What a tokenizer is trained from: the train split, the validation split (opened only by a kind that must cover
/// every character of both), and the special tokens the data's format needs first (a paired dataset's markers; none
/// for text).
/// </summary>
public sealed record TokenizerCorpus(Func<TextReader> Train, Func<TextReader> Validation,
    IReadOnlyList<string> RequiredSpecials);

/// <summary>
/// A kind of tokenizer a dataset may ask to have trained (<see cref="TokenizerSpec.Kind"/>): the bounds of its spec
/// and how it trains. Adding one is a class of its own and a line in <see cref="TokenizerKindRegistry"/>.
/// </summary>
public abstract class TokenizerKind
{
    public abstract string Name { get; }

    /// <summary>One line for people choosing a kind (the dashboard lists them).</summary>
    public abstract string Description { get; }

    /// <summary>Checks the spec's fields this kind uses; the kind itself is already known to be this one.</summary>
    public virtual void Validate(TokenizerSpec spec, string field, ValidationErrors errors)
    {
    }

    public abstract ITokenizer Train(TokenizerSpec spec, TokenizerCorpus corpus);

    /// <summary>What every kind that learns a vocabulary of a size checks: the size from
    /// <paramref name="minVocabSize"/> up, a positive minimum frequency, and sensible special tokens.</summary>
    protected static void ValidateLearnedVocabulary(TokenizerSpec spec, string field, ValidationErrors errors,
        int minVocabSize)
    {
        errors.Range(spec.VocabSize, minVocabSize, TokenizerSpec.MaxVocabSize, field + ".vocabSize");
        errors.Range(spec.MinFrequency, 1, int.MaxValue, field + ".minFrequency");
        errors.Require(spec.SpecialTokens is null || spec.SpecialTokens.All(t => !string.IsNullOrEmpty(t)
            && t.Length <= 64), field + ".specialTokens", "must be non-empty strings of at most 64 characters.");
    }
}
