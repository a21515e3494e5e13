using System.Buffers.Text;
using System.Text;
using Platform.ServiceDefaults.Security;

namespace Platform.Services.Tests;

public class CallerSignatureTests
{
    private const string Secret = "a-test-secret-that-is-long-enough-0123456789";
    private static readonly Caller Editor = new(Guid.NewGuid(), "ci-bot", Roles.Editor);
    private static readonly SignedRequest CancelRun = new("POST", "/api/runs/7/cancel", "training");

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void A_signed_caller_verifies_as_itself()
    {
        var signature = new CallerSignature(Secret);
        Assert.Equal(Editor, signature.Verify(signature.Sign(Editor, CancelRun), CancelRun, out var reason));
        Assert.Null(reason);
    }

    [Fact]
    public void A_signature_is_good_for_its_own_request_only_not_another_method_path_or_service()
    {
        var signature = new CallerSignature(Secret);
        var header = signature.Sign(Editor, CancelRun);
        foreach (var other in new[]
                 {
                     CancelRun with { Method = "DELETE" }, CancelRun with { Path = "/api/runs/8/cancel" },
                     CancelRun with { Path = "/api/runs/7/cancel/" }, CancelRun with { Service = "ingestion" },
                 })
        {
            Assert.Null(signature.Verify(header, other, out var reason));
            Assert.Equal("signed for another request", reason);
        }
        Assert.NotNull(signature.Verify(header, CancelRun with { Method = "post" }, out _));
    }

    [Fact]
    public void Another_secret_a_changed_payload_or_garbage_is_refused()
    {
        var header = new CallerSignature(Secret).Sign(Editor, CancelRun);
        Assert.Null(new CallerSignature(Secret + "x").Verify(header, CancelRun, out var reason));
        Assert.Equal("bad signature", reason);

        // Promote oneself to admin by rewriting the payload: the MAC no longer matches.
        var parts = header.Split('.');
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])).Replace("\"editor\"", "\"admin\"");
        var forged = $"{parts[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}.{parts[2]}";
        Assert.Null(new CallerSignature(Secret).Verify(forged, CancelRun, out reason));
        Assert.Equal("bad signature", reason);

        Assert.Null(new CallerSignature(Secret).Verify("not-a-header", CancelRun, out reason));
        Assert.Equal("malformed", reason);
        Assert.Null(new CallerSignature(Secret).Verify(null, CancelRun, out _));
    }

    [Fact]
    public void A_signature_expires_after_thirty_seconds()
    {
        var clock = new Clock(DateTimeOffset.UnixEpoch.AddDays(20_000));
        var signature = new CallerSignature(Secret, clock);
        var header = signature.Sign(Editor, CancelRun);
        clock.Now += TimeSpan.FromSeconds(29);
        Assert.NotNull(signature.Verify(header, CancelRun, out _));
        clock.Now += TimeSpan.FromSeconds(2);
        Assert.Null(signature.Verify(header, CancelRun, out var reason));
        Assert.Equal("expired", reason);
    }

    [Fact]
    public void Short_secrets_are_refused() => Assert.Throws<ArgumentException>(() => new CallerSignature("too-short"));

    [Fact]
    public void Only_admins_and_owners_may_change_things()
    {
        var owner = Guid.NewGuid();
        Assert.True(new Caller(owner, "a", Roles.Editor).MayChange(owner));
        Assert.False(new Caller(Guid.NewGuid(), "b", Roles.Editor).MayChange(owner));
        Assert.True(new Caller(Guid.NewGuid(), "root", Roles.Admin).MayChange(owner));
        Assert.False(new Caller(Guid.NewGuid(), "b", Roles.Editor).MayChange(null));
        // A service's own identity owns nothing, even what has no owner.
        Assert.False(new Caller(Caller.ServiceKeyId, "service:training", Roles.Viewer).MayChange(Caller.ServiceKeyId));
        Assert.Equal([Roles.Editor, Roles.Admin], Roles.AtLeast(Roles.Editor));
    }
}
