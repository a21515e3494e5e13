using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Platform.ServiceDefaults.Security;

/// <summary>What one signature is good for: a request of this method to this path of this service.</summary>
public sealed record SignedRequest(string Method, string Path, string Service)
{
    /// <summary>An outgoing request to <paramref name="service"/>, its path as the service will read it.</summary>
    public static SignedRequest For(HttpRequestMessage request, string service) =>
        new(request.Method.Method, PathString.FromUriComponent(request.RequestUri!.AbsolutePath).Value ?? "/", service);
}

/// <summary>
/// The caller's identity as the gateway forwards it: "v2.{payload}.{mac}", where payload is base64url JSON (key id,
/// name, role, expiry, and the request it is for: method, path and target service) and mac is HMAC-SHA256 of
/// "v2.{payload}" under the secret shared by the gateway and the services (PLATFORM_INTERNAL_SECRET). A service
/// accepts a request only with a valid signature for that very request, unexpired (it lives seconds), so a request
/// that did not pass the gateway's authentication is refused even when it reaches a service's port, and a header
/// seen once cannot be replayed against another endpoint or service.
/// </summary>
public sealed class CallerSignature
{
    public const string HeaderName = "X-Platform-Caller";
    public const int MinimumSecretLength = 32;
    private const string Version = "v2";
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    private readonly byte[] _key;
    private readonly TimeProvider _clock;

    public CallerSignature(string secret, TimeProvider? clock = null)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length < MinimumSecretLength)
            throw new ArgumentException($"The internal secret must be at least {MinimumSecretLength} characters.",
                nameof(secret));
        _key = Encoding.UTF8.GetBytes(secret);
        _clock = clock ?? TimeProvider.System;
    }

    private sealed record Payload(Guid Kid, string Name, string Role, long Exp, string Method, string Path, string Aud);

    public string Sign(Caller caller, SignedRequest request)
    {
        var expires = _clock.GetUtcNow().Add(Lifetime).ToUnixTimeSeconds();
        var payload = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new Payload(caller.KeyId,
            caller.Name, caller.Role, expires, request.Method.ToUpperInvariant(), request.Path, request.Service)));
        return $"{Version}.{payload}.{Mac(payload)}";
    }

    /// <summary>
    /// The caller a header names, or null (with the reason) when it is malformed, forged, expired, or for another
    /// request than <paramref name="request"/>.
    /// </summary>
    public Caller? Verify(string? header, SignedRequest request, out string? reason)
    {
        reason = null;
        var parts = header?.Split('.') ?? [];
        if (parts.Length != 3 || parts[0] != Version)
        {
            reason = "malformed";
            return null;
        }
        var expected = Encoding.ASCII.GetBytes(Mac(parts[1]));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(parts[2])))
        {
            reason = "bad signature";
            return null;
        }
        Payload? payload;
        try
        {
            payload = JsonSerializer.Deserialize<Payload>(Base64Url.DecodeFromChars(parts[1]));
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            reason = "malformed";
            return null;
        }
        if (payload is null || !Roles.IsKnown(payload.Role) || payload.Method is null || payload.Path is null
            || payload.Aud is null)
        {
            reason = "malformed";
            return null;
        }
        if (payload.Exp < _clock.GetUtcNow().ToUnixTimeSeconds())
        {
            reason = "expired";
            return null;
        }
        if (!string.Equals(payload.Method, request.Method, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(payload.Path, request.Path, StringComparison.Ordinal)
            || !string.Equals(payload.Aud, request.Service, StringComparison.OrdinalIgnoreCase))
        {
            reason = "signed for another request";
            return null;
        }
        return new Caller(payload.Kid, payload.Name, payload.Role);
    }

    private string Mac(string payload) =>
        Base64Url.EncodeToString(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes($"{Version}.{payload}")));
}
