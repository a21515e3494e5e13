using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Ingestion.Privacy;

/// <summary>
/// Replaces personal data in text with placeholders ([EMAIL], [CN_ID], [CREDIT_CARD], [IP], [PHONE]) and counts
/// what it replaced. Each kind is a pattern for candidates plus a check that the candidate really is one (a Luhn
/// checksum, a resident ID's check digit and birth date, an address that parses), applied in that order so that a
/// replaced span is never seen again by a later kind. Every pattern is ASCII: letters and digits of other scripts
/// (Chinese text around a phone number, say) are boundaries, never part of a match. docs/security.md lists exactly what
/// each kind matches and what it leaves alone.
/// </summary>
public sealed partial class PiiRedactor(IReadOnlySet<RedactionKind> kinds)
{
    // Longest text any kind can match (a 19-digit card with separators, a full IPv6 address, an e-mail address).
    public const int MaxMatchLength = 320;

    private readonly Dictionary<RedactionKind, long> _counts = kinds.ToDictionary(k => k, _ => 0L);

    public IReadOnlySet<RedactionKind> Kinds { get; } = kinds;

    /// <summary>How many of each kind were replaced so far.</summary>
    public IReadOnlyDictionary<RedactionKind, long> Counts => _counts;

    public string Redact(string text)
    {
        foreach (var (_, kind) in RedactionKinds.ByName)
            if (Kinds.Contains(kind))
                text = Replace(text, kind);
        return text;
    }

    private string Replace(string text, RedactionKind kind)
    {
        var placeholder = RedactionKinds.Placeholder(kind);
        foreach (var pattern in Patterns(kind))
            text = pattern.Replace(text, m =>
            {
                if (!IsGenuine(kind, m.Value))
                    return m.Value;
                _counts[kind]++;
                return placeholder;
            });
        return text;
    }

    private static Regex[] Patterns(RedactionKind kind) => kind switch
    {
        RedactionKind.Email => [Email()],
        RedactionKind.CnId => [CnId()],
        RedactionKind.CreditCard => [CardGrouped(), CardContiguous()],
        RedactionKind.Ip => [IPv4(), IPv6()],
        RedactionKind.Phone => [PhoneInternational(), PhoneChinaMobile(), PhoneChinaLandline(), PhoneNorthAmerica()],
        _ => [],
    };

    private static bool IsGenuine(RedactionKind kind, string candidate) => kind switch
    {
        RedactionKind.CnId => IsChineseResidentId(candidate),
        RedactionKind.CreditCard => Digits(candidate) is { Length: >= 13 and <= 19 } digits && PassesLuhn(digits),
        RedactionKind.Ip => !candidate.Contains(':') || IsIPv6(candidate),
        RedactionKind.Phone => Digits(candidate).Length is >= 7 and <= 15,
        _ => true,
    };

    /// <summary>The Luhn checksum of payment card numbers (ISO/IEC 7812).</summary>
    public static bool PassesLuhn(string digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 1)
                d = d * 2 > 9 ? d * 2 - 9 : d * 2;
            sum += d;
        }
        return sum % 10 == 0;
    }

    /// <summary>
    /// An 18-character resident identity number (GB 11643-1999): 6-digit region, a real birth date (YYYYMMDD),
    /// 3-digit sequence, and the ISO 7064 MOD 11-2 check character (0–9 or X).
    /// </summary>
    public static bool IsChineseResidentId(string id)
    {
        if (id.Length != 18
            || !DateTime.TryParseExact(id.AsSpan(6, 8), "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None,
            out _))
            return false;
        ReadOnlySpan<int> weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        var sum = 0;
        for (var i = 0; i < 17; i++)
            sum += (id[i] - '0') * weights[i];
        return "10X98765432"[sum % 11] == char.ToUpperInvariant(id[17]);
    }

    private static bool IsIPv6(string candidate) =>
        candidate.Count(c => c == ':') >= 2 && candidate.Any(char.IsAsciiDigit)
        && IPAddress.TryParse(candidate, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6;

    private static string Digits(string text) => string.Concat(text.Where(char.IsAsciiDigit));

    // A local part, "@", one or more dot-separated domain labels and a top-level domain of letters.
    [GeneratedRegex(
        @"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0," +
        @"61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])",
        RegexOptions.CultureInvariant)]
    private static partial Regex Email();

    [GeneratedRegex(
        @"(?<![A-Za-z0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])" +
        @"[0-9]{3}[0-9Xx](?![A-Za-z0-9])",
        RegexOptions.CultureInvariant)]
    private static partial Regex CnId();

    // Groups of 3 to 6 digits separated by one space or dash (4-4-4-4, Amex's 4-6-5, ...), 13–19 digits in all.
    [GeneratedRegex(@"(?<![A-Za-z0-9+.\-])[0-9]{3,6}(?:[ \-][0-9]{3,6}){1,5}(?![A-Za-z0-9]|[\-.][0-9])",
        RegexOptions.CultureInvariant)]
    private static partial Regex CardGrouped();

    [GeneratedRegex(@"(?<![A-Za-z0-9+.\-])[0-9]{13,19}(?![A-Za-z0-9]|[\-.][0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex CardContiguous();

    // Four dotted numbers 0–255 without leading zeros, not part of a longer dotted run (1.2.3.4.5 is not an address).
    [GeneratedRegex(
        @"(?<![A-Za-z0-9.])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}" +
        @"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?![A-Za-z0-9]|\.[0-9])",
        RegexOptions.CultureInvariant)]
    private static partial Regex IPv4();

    // Hex groups and colons, at least two colons (checked, with the address parsed, in IsGenuine).
    [GeneratedRegex(@"(?<![A-Za-z0-9:])[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]{1,38}(?![A-Za-z0-9:])",
        RegexOptions.CultureInvariant)]
    private static partial Regex IPv6();

    // "+" and a country code, then 7–15 digits in all, separated by at most two of space, dash, dot or parentheses.
    [GeneratedRegex(@"(?<![A-Za-z0-9+])\+[1-9](?:[ \-.()]{0,2}[0-9]){6,14}(?![0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex PhoneInternational();

    // Chinese mobile numbers: 1[3-9]x xxxx xxxx, written together or split 3-4-4 by spaces or dashes.
    [GeneratedRegex(@"(?<![A-Za-z0-9])1[3-9][0-9](?:[ \-]?[0-9]{4}){2}(?![A-Za-z0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex PhoneChinaMobile();

    // Chinese landlines: an area code 0xx or 0xxx and a 7- or 8-digit number, as 010-12345678 or (010) 12345678.
    [GeneratedRegex(@"(?<![A-Za-z0-9])(?:0[1-9][0-9]{1,2}-|\(0[1-9][0-9]{1,2}\) ?)[1-9][0-9]{6,7}(?![A-Za-z0-9])",
        RegexOptions.CultureInvariant)]
    private static partial Regex PhoneChinaLandline();

    // North American numbers: (415) 555-2671, 415-555-2671 or 415.555.2671 (one separator throughout).
    [GeneratedRegex(@"(?<![A-Za-z0-9])(?:\([2-9][0-9]{2}\) " +
        @"?[2-9][0-9]{2}-[0-9]{4}|[2-9][0-9]{2}([\-.])[2-9][0-9]{2}\1[0-9]{4})(?![A-Za-z0-9]|[\-.][0-9])",
        RegexOptions.CultureInvariant)]
    private static partial Regex PhoneNorthAmerica();
}
