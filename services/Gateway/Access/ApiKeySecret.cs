using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Access;

/// <summary>
/// API key secrets: "plk_" and 43 base64url characters (256 random bits). Such a secret cannot be guessed, so a
/// plain SHA-256 of it is a safe thing to store and look up (slow password hashes are for secrets people choose).
/// </summary>
public static class ApiKeySecret
{
    public const string Marker = "plk_";
    public const int MaxNameLength = 64, MinConfiguredLength = 24;

    public static string New() => Marker + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>
    /// The first 12 characters of a generated secret (8 of its 43 random ones); nothing of a secret someone chose
    /// (PLATFORM_ADMIN_KEY may be a passphrase), since any part of that could help guess the rest.
    /// </summary>
    public static string PrefixOf(string secret) => secret.StartsWith(Marker, StringComparison.Ordinal)
        && secret.Length > 12 ? secret[..12] : "";
}
