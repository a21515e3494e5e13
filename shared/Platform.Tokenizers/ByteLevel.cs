using System.Text.RegularExpressions;

namespace Platform.Tokenizers;

/// <summary>
/// GPT-2's byte-level conventions: every byte maps to one printable character (so byte strings can be JSON
/// vocabulary keys, e.g. a space becomes 'Ġ'), and text is pre-split with GPT-2's regular expression.
/// </summary>
public static partial class ByteLevel
{
    /// <summary>Character standing for each byte value (GPT-2's bytes_to_unicode).</summary>
    public static readonly char[] ByteToChar = BuildByteToChar();
    public static readonly Dictionary<char,
        byte> CharToByte = ByteToChar.Select((c, b) => (c, (byte)b)).ToDictionary(p => p.c, p => p.Item2);

    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
        RegexOptions.CultureInvariant)]
    public static partial Regex Gpt2Pattern();

    [ThreadStatic] private static Regex? t_gpt2Pattern;

    /// <summary>
    /// GPT-2's pattern for the calling thread's own use. A Regex keeps one matcher for reuse; a thread that finds it
    /// taken by another builds a new one for that match, so threads sharing one instance allocate at nearly every match
    /// and encoding on two cores ran no faster than on one (docs/benchmarks.md). Each thread therefore matches with
    /// an instance of its own, compiled from the same pattern.
    /// </summary>
    public static Regex Gpt2PatternForThisThread() =>
        t_gpt2Pattern ??= new Regex(Gpt2Pattern().ToString(), Gpt2Pattern().Options | RegexOptions.Compiled);

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var printable = new bool[256];
        foreach (var (from, to) in new[] { ('!', '~'), ('¡', '¬'), ('®', 'ÿ') })
            for (var c = from; c <= to; c++)
                printable[c] = true;
        var next = 256;
        for (var b = 0; b < 256; b++)
            map[b] = printable[b] ? (char)b : (char)next++;
        return map;
    }

    public static string ToByteString(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
            chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }
}
