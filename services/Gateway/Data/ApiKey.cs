using Platform.ServiceDefaults.Http;
using Gateway.Access;
using Platform.ServiceDefaults.Security;

namespace Gateway.Data;

/// <summary>
/// An API key. Only the SHA-256 of its secret is stored: the secret is shown once, when the key is created.
/// A revoked key stays (audit entries name it) but no longer authenticates.
/// </summary>
public sealed class ApiKey : IListed
{
    /// <summary>The row of the key configured by PLATFORM_ADMIN_KEY; its hash follows that setting at every
    /// start.</summary>
    public static readonly Guid BootstrapId = new("a0000000-0000-0000-0000-000000000001");

    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string Role { get; set; } = Roles.Viewer;
    public string SecretHash { get; set; } = "";
    /// <summary>The secret's first characters, enough to tell keys apart in a listing without revealing them.</summary>
    public string Prefix { get; set; } = "";
    public int? RequestsPerSecond { get; set; }
    public int? MaxConcurrentGenerations { get; set; }
    public Guid? CreatedById { get; set; }
    public string? CreatedByName { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public string? RevokedByName { get; set; }

    public bool IsBootstrap => Id == BootstrapId;
    public bool IsRevoked => RevokedAt is not null;

    public static ApiKey Create(string name, string role, string secret, int? requestsPerSecond,
        int? maxConcurrentGenerations, Caller createdBy) => new()
        {
            Id = Guid.NewGuid(),
            Name = name,
            Role = role,
            SecretHash = ApiKeySecret.Hash(secret),
            Prefix = ApiKeySecret.PrefixOf(secret),
            RequestsPerSecond = requestsPerSecond,
            MaxConcurrentGenerations = maxConcurrentGenerations,
            CreatedById = createdBy.KeyId,
            CreatedByName = createdBy.Name,
            CreatedAt = DateTimeOffset.UtcNow,
        };

    /// <summary>Revokes the key from now on; revoking a revoked key changes nothing.</summary>
    public void Revoke(Caller by)
    {
        if (IsBootstrap)
            throw new InvalidOperationException("The bootstrap admin key is set by PLATFORM_ADMIN_KEY: change or " +
                "unset it there and restart the gateway.");
        if (IsRevoked)
            return;
        RevokedAt = DateTimeOffset.UtcNow;
        RevokedByName = by.Name;
    }

    public Caller ToCaller() => new(Id, Name, Role);
}
