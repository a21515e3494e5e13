using Platform.Contracts;
using Platform.ServiceDefaults.Security;

namespace Training.Registry.Data;

/// <summary>
/// A model name and who may register versions under it: the key that first created a run, sweep or import under it,
/// the keys it shares the name with, and admins. A name is never released, not even when its last version is deleted:
/// clients that call it by name must not be handed a stranger's weights later.
/// </summary>
public sealed class ModelName : IOwned
{
    public const int MaxEditors = 100;

    public string Name { get; private set; } = "";
    public Guid? OwnerId { get; private set; }
    public string? OwnerName { get; private set; }
    /// <summary>The keys the owner (or an admin) shares the name with: they register as the owner does.</summary>
    public List<Guid> Editors { get; private set; } = [];
    public DateTimeOffset ClaimedAt { get; private set; }

    public static ModelName Claim(string name, Owner? owner, DateTimeOffset at) =>
        new() { Name = name, OwnerId = owner?.Id, OwnerName = owner?.Name, ClaimedAt = at };

    /// <summary>
    /// Whether the key may register a version under the name: its owner, a key it is shared with, or an admin. A name
    /// that predates keys (no owner) is an admin's only.
    /// </summary>
    public bool AllowsRegistrationBy(Guid keyId, bool isAdmin) =>
        isAdmin || keyId != Caller.ServiceKeyId && (keyId == OwnerId || Editors.Contains(keyId));

    /// <summary>Replaces the keys the name is shared with; by its owner or an admin (the caller checks).</summary>
    public void ShareWith(IEnumerable<Guid> editors)
    {
        var distinct = editors.Where(e => e != OwnerId).Distinct().ToList();
        if (distinct.Count > MaxEditors)
            throw new ArgumentException($"A name is shared with at most {MaxEditors} keys.", nameof(editors));
        Editors = distinct;
    }
}
