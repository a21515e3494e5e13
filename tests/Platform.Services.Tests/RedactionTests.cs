using System.Security.Cryptography;
using System.Text;
using Ingestion.Corpus;
using Ingestion.Privacy;

namespace Platform.Services.Tests;

/// <summary>
/// What each kind of personal data matches, and what it must leave alone. Positives come from published sources:
/// card networks' test numbers (valid under Luhn), the example number printed in GB 11643-1999 itself, and the
/// address ranges RFC 5737 and RFC 3849 reserve for documentation.
/// </summary>
public class RedactionTests
{
    private static readonly IReadOnlySet<RedactionKind> All = RedactionKinds.Parse("all", out _)!;

    private static (string Text, IReadOnlyDictionary<RedactionKind, long> Counts) Redact(string text,
        IReadOnlySet<RedactionKind>? kinds = null)
    {
        var redactor = new PiiRedactor(kinds ?? All);
        return (redactor.Redact(text), redactor.Counts);
    }

    [Theory]
    [InlineData("Write to alice@example.com today.", "Write to [EMAIL] today.")]
    [InlineData("bob.smith+tag@mail.example.co.uk, please", "[EMAIL], please")]
    [InlineData("联系邮箱：zhang.san@example.cn，谢谢", "联系邮箱：[EMAIL]，谢谢")]
    [InlineData("Visa 4111111111111111 ok", "Visa [CREDIT_CARD] ok")]
    [InlineData("MC 5500 0000 0000 0004.", "MC [CREDIT_CARD].")]
    [InlineData("Amex 3782-822463-10005", "Amex [CREDIT_CARD]")]
    [InlineData("Discover 6011111111111117", "Discover [CREDIT_CARD]")]
    [InlineData("身份证号11010519491231002X。", "身份证号[CN_ID]。")]
    [InlineData("ID 440524188001010014", "ID [CN_ID]")]
    [InlineData("lower-case x: 11010519491231002x", "lower-case x: [CN_ID]")]
    [InlineData("from 192.0.2.1 and 198.51.100.7", "from [IP] and [IP]")]
    [InlineData("host 203.0.113.255:8080", "host [IP]:8080")]
    [InlineData("v6 2001:db8::1 and 2001:db8:85a3::8a2e:370:7334.", "v6 [IP] and [IP].")]
    [InlineData("loopback ::1 here", "loopback [IP] here")]
    [InlineData("call +1 415 555 2671", "call [PHONE]")]
    [InlineData("London +44 20 7946 0958.", "London [PHONE].")]
    [InlineData("电话+86 138 0013 8000", "电话[PHONE]")]
    [InlineData("手机13800138000，", "手机[PHONE]，")]
    [InlineData("手机 138-0013-8000", "手机 [PHONE]")]
    [InlineData("座机010-12345678或(0755) 1234567", "座机[PHONE]或[PHONE]")]
    [InlineData("(415) 555-2671 or 415-555-2671 or 415.555.2671", "[PHONE] or [PHONE] or [PHONE]")]
    public void Personal_data_is_replaced(string input, string expected) => Assert.Equal(expected, Redact(input).Text);

    [Theory]
    [InlineData("Dates: 2024-01-15, 15.01.2024, 2024/01/15, 20240115, at 10:30:45.")]
    [InlineData("Versions: v1.2.3, 1.2.3.4.5, version 10.0.401, TorchSharp 0.107.0, Chromium 156.0.8078.73")]
    [InlineData("Numbers: 3.14159, 1,234,567, 12345, 1234567, 555-1234, 12345678901, 0.5, -42, 1e10")]
    [InlineData("Not a card (Luhn fails): 4111111111111112; not an ID (check digit): 110105194912310021")]
    [InlineData("Not an address: 256.1.1.1, 01.02.03.04, 10:30, std::vector, a::b")]
    [InlineData("Not e-mail: @handle, user@localhost, a@b")]
    [InlineData("Counting 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 and pages 100-200")]
    public void Ordinary_text_is_left_alone(string input)
    {
        var (text, counts) = Redact(input);
        Assert.Equal(input, text);
        Assert.All(counts.Values, c => Assert.Equal(0, c));
    }

    [Fact]
    public void Each_kind_is_counted_and_only_the_kinds_asked_for_are_replaced()
    {
        const string text = "a@example.com b@example.org 192.0.2.1 13800138000 4111111111111111 11010519491231002X";
        var (all, counts) = Redact(text);
        Assert.Equal("[EMAIL] [EMAIL] [IP] [PHONE] [CREDIT_CARD] [CN_ID]", all);
        Assert.Equal(2, counts[RedactionKind.Email]);
        Assert.Equal(1, counts[RedactionKind.Ip]);
        Assert.Equal(1, counts[RedactionKind.Phone]);
        Assert.Equal(1, counts[RedactionKind.CreditCard]);
        Assert.Equal(1, counts[RedactionKind.CnId]);

        var (emailsOnly, emailCounts) = Redact(text, RedactionKinds.Parse("email", out _));
        Assert.Equal("[EMAIL] [EMAIL] 192.0.2.1 13800138000 4111111111111111 11010519491231002X", emailsOnly);
        Assert.Equal([RedactionKind.Email], emailCounts.Keys);
    }

    [Fact]
    public void The_option_names_kinds_or_all_and_rejects_anything_else()
    {
        Assert.Equal(5, RedactionKinds.Parse("all", out _)!.Count);
        Assert.Equal(new HashSet<RedactionKind> { RedactionKind.Email, RedactionKind.CnId },
            RedactionKinds.Parse(" email , cnId ", out _));
        Assert.Empty(RedactionKinds.Parse("", out _)!);
        Assert.Null(RedactionKinds.Parse("email,ssn", out var error));
        Assert.Contains("'ssn'", error);
    }

    [Theory]
    [InlineData("4111111111111111", true)]
    [InlineData("378282246310005", true)]
    [InlineData("4012888888881881", true)]
    [InlineData("4111111111111112", false)]
    [InlineData("1234567812345678", false)]
    public void Luhn_accepts_the_networks_test_numbers(string digits, bool valid) =>
        Assert.Equal(valid, PiiRedactor.PassesLuhn(digits));

    [Theory]
    [InlineData("11010519491231002X", true)]
    [InlineData("440524188001010014", true)]
    [InlineData("110105194912310021", false)]   // wrong check digit
    [InlineData("11010519490230002X", false)]   // 30 February
    public void Resident_ids_need_a_real_birth_date_and_their_check_digit(string id, bool valid) =>
        Assert.Equal(valid, PiiRedactor.IsChineseResidentId(id));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(64)]
    public void Streaming_in_any_chunks_gives_the_same_text_as_redacting_it_whole(int chunk)
    {
        var text = string.Concat(Enumerable.Range(0, 40).Select(i =>
            $"line {i}: mail u{i}@example.com, ip 192.0.2.{i}, phone +1 415 555 {2600 + i}, " +
            $"card 4111 1111 1111 1111, id 11010519491231002X 中文\n"));
        var streaming = new StreamingRedactor(new PiiRedactor(All));
        var output = new StringBuilder();
        for (var i = 0; i < text.Length; i += chunk)
            output.Append(streaming.Push(text.AsSpan(i, Math.Min(chunk, text.Length - i)), final: false));
        output.Append(streaming.Push([], final: true));

        var (whole, counts) = Redact(text);
        Assert.Equal(whole, output.ToString());
        Assert.Equal(counts, streaming.Redactor.Counts);
        Assert.Equal(40, counts[RedactionKind.Email]);
    }

    [Fact]
    public void A_line_longer_than_the_buffer_is_cut_only_where_no_match_can_span()
    {
        // No newline for 1.5 M characters. The buffer first fills at exactly MaxPendingChars (a whole number of
        // 64 Ki chunks), in the middle of a phone number written with spaces: a cut at a space would split it.
        const int chunk = 65_536;
        var filler = string.Concat(Enumerable.Repeat("lorem ipsum dolor, ", StreamingRedactor.MaxPendingChars / 19
            + 1));
        const string phone = "+44 20 7946 0958";
        var text = filler[..(StreamingRedactor.MaxPendingChars - 10)] + ", " + phone + " and a@example.com "
            + filler[..(StreamingRedactor.MaxPendingChars / 2)];
        Assert.Equal(0, StreamingRedactor.MaxPendingChars % chunk);
        var streaming = new StreamingRedactor(new PiiRedactor(All));
        var output = new StringBuilder();
        for (var i = 0; i < text.Length; i += chunk)
            output.Append(streaming.Push(text.AsSpan(i, Math.Min(chunk, text.Length - i)), final: false));
        output.Append(streaming.Push([], final: true));
        Assert.Equal(Redact(text).Text, output.ToString());
        Assert.Contains(", [PHONE] and [EMAIL] lorem", output.ToString());
    }

    [Fact]
    public async Task The_normaliser_stores_and_describes_only_the_redacted_text()
    {
        var input = "Contact: a@example.com\r\nPhone: 13800138000\r\n";
        var redactor = new StreamingRedactor(new PiiRedactor(All));
        using var output = new MemoryStream();
        var stats = await CorpusNormaliser.NormaliseAsync(new MemoryStream(Encoding.UTF8.GetBytes(input)), output,
            1 << 20, CancellationToken.None, redactor);
        var stored = output.ToArray();
        Assert.Equal("Contact: [EMAIL]\nPhone: [PHONE]\n", Encoding.UTF8.GetString(stored));
        Assert.Equal(stored.Length, stats.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(stored)), stats.Sha256);
        Assert.Equal(2, stats.Lines);
        Assert.Equal(Encoding.UTF8.GetString(stored).Length, stats.Characters);
    }
}
