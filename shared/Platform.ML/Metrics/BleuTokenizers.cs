using System.Text;
using System.Text.RegularExpressions;

namespace Platform.ML;

/// <summary>sacreBLEU's tokenisations: "13a" (mteval-v13a, its default) and "zh" (each CJK character a word, then 13a's
/// rules).</summary>
public static partial class BleuTokenizers
{
    public const string Thirteen = "13a", Chinese = "zh";

    // mteval-v13a's language-dependent rules, in sacreBLEU's order.
    [GeneratedRegex(@"([\{-\~\[-\` -\&\(-\+\:-\@\/])")]
    private static partial Regex Punctuation();
    [GeneratedRegex(@"([^0-9])([\.,])")]
    private static partial Regex PeriodCommaAfterNonDigit();
    [GeneratedRegex(@"([\.,])([^0-9])")]
    private static partial Regex PeriodCommaBeforeNonDigit();
    [GeneratedRegex(@"([0-9])(-)")]
    private static partial Regex DashAfterDigit();

    public static string[] Tokenize(string line, string tokenize) => tokenize switch
    {
        Thirteen => Regexp(Thirteenify(line)),
        Chinese => Regexp(IsolateChinese(line.Trim())),
        _ => throw new ArgumentException($"Unknown BLEU tokenisation '{tokenize}'.", nameof(tokenize)),
    };

    /// <summary>"zh" when the references are mostly CJK characters, else "13a" (sacreBLEU's own advice for Chinese
    /// targets).</summary>
    public static string For(IEnumerable<string> references)
    {
        long cjk = 0, letters = 0;
        foreach (var reference in references)
            foreach (var rune in reference.EnumerateRunes())
            {
                if (IsChinese(rune.Value))
                    cjk++;
                else if (Rune.IsLetterOrDigit(rune))
                    letters++;
            }
        return cjk > letters ? Chinese : Thirteen;
    }

    private static string Thirteenify(string line)
    {
        line = line.Replace("<skipped>", "").Replace("-\n", "").Replace("\n", " ");
        if (line.Contains('&'))
            line = line.Replace("&quot;", "\"").Replace("&amp;", "&").Replace("&lt;", "<").Replace("&gt;", ">");
        return $" {line} ";
    }

    private static string[] Regexp(string line)
    {
        line = Punctuation().Replace(line, " $1 ");
        line = PeriodCommaAfterNonDigit().Replace(line, "$1 $2 ");
        line = PeriodCommaBeforeNonDigit().Replace(line, " $1 $2");
        line = DashAfterDigit().Replace(line, "$1 $2 ");
        return line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
    }

    private static string IsolateChinese(string line)
    {
        var sb = new StringBuilder(line.Length * 2);
        foreach (var rune in line.EnumerateRunes())
        {
            if (IsChinese(rune.Value))
                sb.Append(' ').Append(rune.ToString()).Append(' ');
            else
                sb.Append(rune.ToString());
        }
        return sb.ToString();
    }

    /// <summary>CJK ideographs (unified, extensions, compatibility), radicals, and CJK and full-width punctuation, as
    /// sacreBLEU's zh tokenizer counts them.</summary>
    public static bool IsChinese(int codePoint) => codePoint is
        >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2CEAF
        or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F or >= 0x2E80 and <= 0x2FDF or >= 0x3000 and <= 0x303F
        or >= 0x31C0 and <= 0x31EF or >= 0xFE30 and <= 0xFE4F or >= 0xFF00 and <= 0xFFEF;
}
