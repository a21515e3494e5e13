using System.Security.Claims;
using Platform.Contracts;

namespace Platform.ServiceDefaults.Security;

/// <summary>The roles an API key can hold, weakest first; each can do everything the ones before it can.</summary>
public static class Roles
{
    public const string Viewer = "viewer", Editor = "editor", Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Viewer, Editor, Admin];

    public static bool IsKnown(string? role) => role is Viewer or Editor or Admin;

    /// <summary>The roles at least as strong as <paramref name="minimum"/>.</summary>
    public static string[] AtLeast(string minimum) => All.SkipWhile(r => r != minimum).ToArray();
}

/// <summary>
/// Who is calling: the API key the gateway authenticated (its id, name and role), or a service calling another
/// (<see cref="ServiceKeyId"/>). Entities record it as their owner.
/// </summary>
public sealed record Caller(Guid KeyId, string Name, string Role)
{
    public const string KeyIdClaim = "platform:key_id";
    public static readonly Guid ServiceKeyId = Guid.Empty;

    public bool IsAdmin => Role == Roles.Admin;

    /// <summary>Admins and the services themselves read every dataset and what was learned from it.</summary>
    public bool ReadsEverything => IsAdmin || KeyId == ServiceKeyId;

    /// <summary>The caller as the owner of what it creates.</summary>
    public Owner AsOwner() => new(KeyId, Name);

    /// <summary>Admins may change anything; others only what they own.</summary>
    public bool MayChange(Guid? ownerId) => IsAdmin || (ownerId is { } id && id == KeyId && KeyId != ServiceKeyId);

    public ClaimsPrincipal ToPrincipal(string authenticationType) => new(new ClaimsIdentity(
    [
        new Claim(KeyIdClaim, KeyId.ToString()),
        new Claim(ClaimTypes.Name, Name),
        new Claim(ClaimTypes.Role, Role),
    ], authenticationType, ClaimTypes.Name, ClaimTypes.Role));

    public static Caller? From(ClaimsPrincipal? user) =>
        user?.Identity?.IsAuthenticated == true
        && Guid.TryParse(user.FindFirstValue(KeyIdClaim), out var id)
        && user.FindFirstValue(ClaimTypes.Role) is { } role
            ? new Caller(id, user.FindFirstValue(ClaimTypes.Name) ?? "", role)
            : null;
}
