using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>Personal data redacted before anything is stored, the stored corpus readable only by its owner, deletion
/// complete.</summary>
[Collection(PlatformCollection.Name)]
public sealed class PrivacyTests(PlatformStack stack)
{
    private HttpClient Admin => stack.Gateway;

    // One of each kind (the unit tests cover the patterns), and text that must survive untouched.
    private static readonly string[] Personal =
    [
        "alice.personal@example.com", "+1 415 555 2671", "13800138000", "010-12345678", "192.0.2.44", "2001:db8::7",
        "4111 1111 1111 1111", "11010519491231002X",
    ];
    private const string Ordinary = "On 2024-01-15 at 10:30:45, version 1.2.3 of build 1.2.3.4.5 sold 1,234,567 " +
        "copies for 3.14159 each; room 12345.";

    private static string Corpus() =>
        string.Join("\n", Personal.Select((p, i) => $"Line {i}: write to {p} now. {Ordinary}")) + "\n"
        + Api.DemoCorpus[..5_000];

    private static async Task<(HttpStatusCode, JsonNode?)> UploadWithRedactAsync(HttpClient http, string text,
        string redact, bool redactAfterFile = false)
    {
        using var form = new MultipartFormDataContent();
        if (!redactAfterFile)
            form.Add(new StringContent(redact), "redact");
        form.Add(new StringContent("redacted"), "name");
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        form.Add(file, "file", "corpus.txt");
        if (redactAfterFile)
            form.Add(new StringContent(redact), "redact");
        using var response = await http.PostAsync("/api/datasets", form);
        return (response.StatusCode, await Api.ReadAsync(response));
    }

    [Fact]
    public async Task An_upload_the_database_fails_to_record_leaves_no_text_behind()
    {
        var marker = "unrecorded" + Guid.NewGuid().ToString("N")[..12];
        var corpus = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat($"a line with {marker} in it\n", 200)));
        var (status, problem) = await Api.UploadAsync(Admin, corpus, FaultNames.UploadSave);
        Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{(int)status}: {problem}");
        Assert.DoesNotContain((await Api.GetOkAsync(Admin, "/api/datasets"))["items"]!.AsArray(),
            d => d!["name"]!.GetValue<string>() == FaultNames.UploadSave);
        Assert.Empty(Api.FilesContaining(stack.ArtifactsRoot, marker));
        Assert.Empty(Api.FilesContaining(stack.Bucket.DataDirectory, marker));
    }

    [Fact]
    public async Task Redaction_replaces_each_kind_before_anything_is_stored_and_counts_it()
    {
        var (status, dataset) = await UploadWithRedactAsync(Admin, Corpus(), "all");
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status}: {dataset}");
        var replaced = dataset!["redaction"]!["replaced"]!;
        Assert.Equal(1, replaced["email"]!.GetValue<long>());
        Assert.Equal(3, replaced["phone"]!.GetValue<long>());
        Assert.Equal(2, replaced["ip"]!.GetValue<long>());
        Assert.Equal(1, replaced["creditCard"]!.GetValue<long>());
        Assert.Equal(1, replaced["cnId"]!.GetValue<long>());
        Assert.Equal(5, dataset["redaction"]!["kinds"]!.AsArray().Count);

        var id = dataset["id"]!.GetValue<string>();
        using var content = await Admin.GetAsync($"/api/datasets/{id}/content");
        Assert.Equal(HttpStatusCode.OK, content.StatusCode);
        var stored = await content.Content.ReadAsStringAsync();
        Assert.Contains("Line 0: write to [EMAIL] now.", stored);
        Assert.Contains("Line 7: write to [CN_ID] now.", stored);
        Assert.Equal(Personal.Length, stored.Split(Ordinary).Length - 1);
        Assert.Equal(dataset["bytes"]!.GetValue<long>(), Encoding.UTF8.GetByteCount(stored));
        foreach (var value in Personal)
        {
            Assert.DoesNotContain(value, stored);
            Assert.Empty(Api.FilesContaining(stack.ArtifactsRoot, value));
            Assert.Empty(Api.FilesContaining(stack.Bucket.DataDirectory, value));   // nor in the bucket
        }

        // Only the kinds asked for: the query string works for a raw text body too.
        using var raw = new StringContent(Corpus(), Encoding.UTF8, "text/plain");
        using var emailsOnly = await Admin.PostAsync("/api/datasets?name=emails-only&redact=email", raw);
        var partial = (await Api.ReadAsync(emailsOnly))!;
        Assert.Equal(HttpStatusCode.Accepted, emailsOnly.StatusCode);
        Assert.Equal(["email"], partial["redaction"]!["kinds"]!.AsArray().Select(k => k!.GetValue<string>()));
        Assert.Equal(1, partial["redaction"]!["replaced"]!["email"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_redact_option_that_comes_too_late_or_names_no_kind_is_refused_and_stores_nothing()
    {
        var before = (await Api.GetOkAsync(Admin, "/api/datasets?limit=1000"))["items"]!.AsArray().Count;
        var email = $"late.{Guid.NewGuid():N}@example.com";
        var text = $"Mail {email} today.\n{Api.DemoCorpus[..2_000]}";
        var (late, lateBody) = await UploadWithRedactAsync(Admin, text, "all", redactAfterFile: true);
        Assert.Equal(HttpStatusCode.BadRequest, late);
        Assert.Contains("before the 'file' part", lateBody!["errors"]!["redact"]![0]!.GetValue<string>());
        var (unknown, unknownBody) = await UploadWithRedactAsync(Admin, text, "email,passport");
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.Contains("'passport'", unknownBody!["errors"]!["redact"]![0]!.GetValue<string>());
        Assert.Equal(before, (await Api.GetOkAsync(Admin, "/api/datasets?limit=1000"))["items"]!.AsArray().Count);
        Assert.Empty(Api.FilesContaining(stack.ArtifactsRoot, email));
        Assert.Empty(Api.FilesContaining(stack.Bucket.DataDirectory, email));
    }
}
