using System.Runtime.CompilerServices;
using System.Text;

namespace Platform.Tokenizers.Structured;

/// <summary>
/// A vocabulary's tokens as their bytes, in a trie: trying every token against a grammar state walks each shared
/// prefix once, and stops at the first byte the grammar refuses. Built once per tokenizer. Byte-level BPE tokens are
/// their bytes; a char tokenizer's are their characters' UTF-8; special tokens have none.
/// </summary>
public sealed class TokenTrie
{
    private static readonly ConditionalWeakTable<ITokenizer, TokenTrie> Built = [];

    internal sealed class Node
    {
        public byte[] Keys = [];
        public Node[] Children = [];
        public int[] Tokens = [];
    }

    internal Node Root { get; }
    internal byte[]?[] TokenBytes { get; }
    public int VocabSize => TokenBytes.Length;

    private TokenTrie(byte[]?[] tokenBytes)
    {
        TokenBytes = tokenBytes;
        Root = Build(Enumerable.Range(0, tokenBytes.Length).Where(id => tokenBytes[id] is { Length: > 0 }).ToList(), 0);
    }

    /// <summary>The trie of a byte-level BPE or char tokenizer; NotSupportedException for a kind whose tokens are not
    /// text as written (WordPiece drops spaces and case).</summary>
    public static TokenTrie For(ITokenizer tokenizer) => Built.GetValue(tokenizer, t => new TokenTrie(t switch
    {
        BpeTokenizer bpe => bpe.Vocabulary.Select(v => bpe.SpecialTokens.ContainsKey(v) ? null
            : v.Select(c => ByteLevel.CharToByte[c]).ToArray()).ToArray(),
        CharTokenizer chars => Enumerable.Range(0, chars.VocabSize).Select(id => id < chars.SpecialTokens.Count ? null
            : Encoding.UTF8.GetBytes(chars.Decode([id]))).ToArray(),
        _ => throw new NotSupportedException($"Structured output needs a byte-level BPE or char tokenizer; this " +
            $"model's is {t.Kind}, whose tokens do not spell text as written."),
    }));

    private Node Build(List<int> tokens, int depth)
    {
        var node = new Node
        {
            Tokens = tokens.Where(id => TokenBytes[id]!.Length == depth).ToArray(),
        };
        var deeper = tokens.Where(id => TokenBytes[id]!.Length > depth).GroupBy(id => TokenBytes[id]![depth])
            .OrderBy(g => g.Key).ToList();
        node.Keys = deeper.Select(g => g.Key).ToArray();
        node.Children = deeper.Select(g => Build(g.ToList(), depth + 1)).ToArray();
        return node;
    }
}

/// <summary>
/// Constrained decoding for one completion: before each draw, <see cref="Allowed"/> says which tokens keep the text a
/// prefix of a document the grammar accepts; <see cref="Advance"/> takes the drawn token. Once the document may end,
/// the end token is allowed too, and once nothing can follow it is the only one, so a reply ends exactly when its
/// document does.
/// </summary>
public sealed class GrammarConstraint(GrammarNode grammar, TokenTrie trie, int endToken)
{
    public GrammarState State { get; private set; } = GrammarState.Start(grammar);
    public bool Ended { get; private set; }

    /// <summary>For each token, whether it may come next.</summary>
    public bool[] Allowed()
    {
        var allowed = new bool[trie.VocabSize];
        if (!Ended)
        {
            Walk(trie.Root, State, allowed);
            if (State.CanFinish)
                allowed[endToken] = true;
        }
        // A state no token continues (a tokenizer without a needed character) ends the reply rather than sampling at
        // random; the text then fails to parse, which its reader sees.
        if (!allowed.Contains(true))
            allowed[endToken] = true;
        return allowed;
    }

    private static void Walk(TokenTrie.Node node, GrammarState state, bool[] allowed)
    {
        for (var i = 0; i < node.Keys.Length; i++)
        {
            if (state.Feed(node.Keys[i]) is not { } next)
                continue;
            var child = node.Children[i];
            foreach (var token in child.Tokens)
                allowed[token] = true;
            Walk(child, next, allowed);
        }
    }

    public void Advance(int token)
    {
        if (Ended)
            return;
        if (token == endToken || trie.TokenBytes[token] is not { } bytes)
        {
            Ended = true;
            return;
        }
        foreach (var b in bytes)
            State = State.Feed(b) ?? throw new InvalidOperationException(
                $"Token {token} does not continue the document; only allowed tokens may be drawn.");
    }
}
