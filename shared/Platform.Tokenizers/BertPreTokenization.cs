using System.Globalization;
using System.Text;

namespace Platform.Tokenizers;

/// <summary>
/// BERT's text handling before WordPiece (Hugging Face's BertNormalizer + BertPreTokenizer): drop control
/// characters, turn whitespace into spaces, put spaces around CJK ideographs, optionally lower-case and strip
/// accents, then split on whitespace and make every punctuation character a word of its own.
/// </summary>
public static class BertPreTokenization
{
    public static string Normalise(string text, bool lowercase)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            var cp = rune.Value;
            if (cp == 0 || cp == 0xFFFD || IsControl(rune))
                continue;
            if (Rune.IsWhiteSpace(rune))
                sb.Append(' ');
            else if (IsCjk(cp))
                sb.Append(' ').Append(rune.ToString()).Append(' ');
            else
                sb.Append(rune.ToString());
        }
        if (!lowercase)
            return sb.ToString();
        // Lower-case, then strip accents: decompose and drop the combining marks.
        var decomposed = sb.ToString().ToLowerInvariant().Normalize(NormalizationForm.FormD);
        var stripped = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
                stripped.Append(c);
        return stripped.ToString();
    }

    /// <summary>The words of normalised text: runs of non-space, non-punctuation characters, and single
    /// punctuation.</summary>
    public static IEnumerable<string> Split(string normalised)
    {
        var start = -1;
        for (var i = 0; i < normalised.Length; i++)
        {
            var c = normalised[i];
            if (c == ' ' || IsPunctuation(normalised, i))
            {
                if (start >= 0)
                    yield return normalised[start..i];
                start = -1;
                if (c != ' ')
                    yield return normalised.Substring(i, 1);
            }
            else if (start < 0)
            {
                start = i;
            }
        }
        if (start >= 0)
            yield return normalised[start..];
    }

    private static bool IsPunctuation(string text, int i)
    {
        var c = text[i];
        if (c is >= '!' and <= '/' or >= ':' and <= '@' or >= '[' and <= '`' or >= '{' and <= '~')
            return true;
        return !char.IsSurrogate(c) && CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.ConnectorPunctuation
            or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
            or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
                or UnicodeCategory.OtherPunctuation;
    }

    private static bool IsControl(Rune rune) =>
        rune.Value is not ('\t' or '\n' or '\r')
        && Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format;

    /// <summary>A CJK ideograph, or CJK or full-width punctuation (、。，「」…): text that Chinese writes without
    /// spaces.</summary>
    public static bool IsCjkText(int cp) => IsCjk(cp)
        || cp is >= 0x3000 and <= 0x303F or >= 0xFF00 and <= 0xFFEF or >= 0xFE30 and <= 0xFE4F;

    private static bool IsCjk(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700
        and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800
                and <= 0x2FA1F;
}
