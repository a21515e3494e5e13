using Platform.Contracts;

namespace Platform.ServiceDefaults.Security;

/// <summary>Something created by a caller: the key id and name recorded as its owner (null for what predates
/// keys).</summary>
public interface IOwned
{
    Guid? OwnerId { get; }
    string? OwnerName { get; }
}

/// <summary>
/// The owner= parameter of list endpoints: "me" (the calling key), a key id, or a key name.
/// </summary>
public sealed record OwnerFilter(Guid? Id, string? Name)
{
    public static OwnerFilter? Parse(string? owner, Caller caller) => string.IsNullOrWhiteSpace(owner)
        ? null
        : owner.Trim() == "me" ? new OwnerFilter(caller.KeyId, null)
        : Guid.TryParse(owner, out var id) ? new OwnerFilter(id, null)
        : new OwnerFilter(null, owner.Trim());
}

public static class OwnedExtensions
{
    /// <summary>The owner as messages and responses show it (id and name), or null for what predates keys.</summary>
    public static Owner? OwnerOf(this IOwned owned) => owned.OwnerId is { } id ? new Owner(id, owned.OwnerName ?? "")
        : null;
}

public static class OwnerFilterExtensions
{
    public static IQueryable<T> OwnedBy<T>(this IQueryable<T> query, OwnerFilter? filter) where T : class, IOwned =>
        filter switch
        {
            { Id: { } id } => query.Where(e => e.OwnerId == id),
            { Name: { } name } => query.Where(e => e.OwnerName == name),
            _ => query,
        };
}
