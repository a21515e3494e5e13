using Platform.Contracts;
using Platform.Storage;
using Platform.Tokenizers;
using Platform.Tokenizers.Kinds;

namespace Tokenization.Encoding;

/// <summary>A dataset's tokenizer, for text and pairs alike: the file uploaded with it, or one its kind
/// trains.</summary>
public static class TokenizerBuilder
{
    public static ITokenizer Build(ArtifactStore store, TokenizerSpec spec, TokenizerCorpus corpus)
    {
        if (spec.Kind == TokenizerKinds.Uploaded && spec.FileKey is not null)
            return TokenizerFile.Load(store.PathOf(spec.FileKey));
        var kind = TokenizerKindRegistry.Find(spec.Kind)
            ?? throw new NotSupportedException($"Tokenizer kind '{spec.Kind}' is not supported.");
        return kind.Train(spec, corpus);
    }
}
