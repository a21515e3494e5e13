using System.Collections.Concurrent;
using Platform.Storage;
using Platform.Tokenizers;
using Tokenization.Data;

namespace Tokenization.Apis;

/// <summary>Tokenizers loaded for the encode/decode endpoints, each read from the artifact store once.</summary>
public sealed class TokenizerCache(ArtifactStore store)
{
    private readonly ConcurrentDictionary<Guid, Lazy<ITokenizer>> _loaded = new();

    public ITokenizer Get(TokenizerRecord record) =>
        _loaded.GetOrAdd(record.Id, _ =>
        new Lazy<ITokenizer>(() => TokenizerFile.Load(store.PathOf(record.TokenizerKey)))).Value;
}
