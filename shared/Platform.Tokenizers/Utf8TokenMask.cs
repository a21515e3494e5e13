using System.Text;

namespace Platform.Tokenizers;

/// <summary>
/// Which tokens of a byte-level BPE vocabulary may come next without breaking UTF-8. The text decoded so far is in
/// one of 8 states: complete, or inside a multi-byte character with 1-3 continuation bytes to go and a range the next
/// byte must fall in (E0 needs A0-BF, ED 80-9F, F0 90-BF, F4 80-8F, else 80-BF; overlong forms, surrogates and values
/// past U+10FFFF are thereby excluded). For every state and token the state after it (or "invalid") is worked out once
/// per tokenizer, so sampling only looks up a row. Special tokens are allowed where a character is complete.
/// </summary>
public sealed class Utf8TokenMask
{
    public const int Invalid = -1, Complete = 0;

    // (continuation bytes left, lowest and highest allowed next byte); state 0 is "complete".
    private static readonly (int Left, byte Low, byte High)[] States =
    [
        (0, 0, 0), (1, 0x80, 0xBF), (2, 0x80, 0xBF), (2, 0xA0, 0xBF), (2, 0x80, 0x9F), (3, 0x90, 0xBF), (3, 0x80, 0xBF),
            (3, 0x80, 0x8F),
    ];

    private readonly int[][] _next;
    private readonly bool[] _canComplete;

    public int VocabSize { get; }
    public static int StateCount => States.Length;

    private Utf8TokenMask(IReadOnlyList<byte[]?> tokenBytes)
    {
        VocabSize = tokenBytes.Count;
        _next = new int[States.Length][];
        for (var state = 0; state < States.Length; state++)
        {
            _next[state] = new int[VocabSize];
            for (var token = 0; token < VocabSize; token++)
                _next[state][token] = tokenBytes[token] is { } bytes ? Walk(state, bytes) : state == Complete ? Complete
                    : Invalid;
        }
        _canComplete = _next.Select(row => row.Contains(Complete)).ToArray();
    }

    /// <summary>The mask for a byte-level BPE tokenizer; null for other kinds (their tokens are whole
    /// characters).</summary>
    public static Utf8TokenMask? For(ITokenizer tokenizer) => tokenizer is BpeTokenizer bpe
        ? new Utf8TokenMask(bpe.Vocabulary.Select(t => bpe.SpecialTokens.ContainsKey(t) ? null
        : t.Select(c => ByteLevel.CharToByte[c]).ToArray()).ToList())
        : null;

    /// <summary>The state after the token, or <see cref="Invalid"/> when its bytes cannot follow.</summary>
    public int Next(int state, int token) => _next[state][token];

    /// <summary>Whether some token leaves the text complete from this state.</summary>
    public bool CanComplete(int state) => _canComplete[state];

    /// <summary>For each token, whether it may follow (and, with mustComplete, also leave the text complete).</summary>
    public bool[] Allowed(int state, bool mustComplete)
    {
        var allowed = new bool[VocabSize];
        var row = _next[state];
        for (var token = 0; token < VocabSize; token++)
            allowed[token] = mustComplete ? row[token] == Complete : row[token] != Invalid;
        return allowed;
    }

    /// <summary>The state after the bytes of an id sequence (e.g. a prompt), from complete.</summary>
    public int After(IEnumerable<int> ids)
    {
        var state = Complete;
        foreach (var id in ids)
            if ((state = Next(state, id)) == Invalid)
                return Complete; // a prompt that is not valid UTF-8 on its own: judge the completion by itself
        return state;
    }

    private static int Walk(int state, byte[] bytes)
    {
        foreach (var b in bytes)
        {
            var (left, low, high) = States[state];
            if (left > 0)
            {
                if (b < low || b > high)
                    return Invalid;
                state = left switch { 1 => Complete, 2 => 1, _ => 2 };
                continue;
            }
            state = b switch
            {
                < 0x80 => Complete,
                >= 0xC2 and <= 0xDF => 1,
                0xE0 => 3,
                0xED => 4,
                >= 0xE1 and <= 0xEF => 2,
                0xF0 => 5,
                >= 0xF1 and <= 0xF3 => 6,
                0xF4 => 7,
                _ => Invalid, // a stray continuation byte, C0, C1 or F5-FF
            };
            if (state == Invalid)
                return Invalid;
        }
        return state;
    }
}
