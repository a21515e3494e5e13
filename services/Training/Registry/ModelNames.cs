using Platform.ServiceDefaults.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Security;
using Training.Registry.Data;

namespace Training.Registry;

/// <summary>
/// Who a model name belongs to (see <see cref="ModelName"/>). A name is claimed when the first run, sweep or import is
/// created under it, not when its first version registers, so a second key is refused before it trains anything.
/// </summary>
public static class ModelNames
{
    /// <summary>
    /// The name's record, claimed for <paramref name="owner"/> if nobody holds it. Two keys claiming one new name at
    /// once both read the one row the database kept: the first insert wins, the other does nothing.
    /// </summary>
    public static async Task<ModelName> ClaimAsync(RegistryDbContext db, string name, Owner? owner,
        CancellationToken cancellationToken)
    {
        var claim = ModelName.Claim(name, owner, DateTimeOffset.UtcNow);
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO registry.model_names ("Name", "OwnerId", "OwnerName", "Editors", "ClaimedAt")
            VALUES ({claim.Name}, {claim.OwnerId}, {claim.OwnerName}, ARRAY[]::uuid[], {claim.ClaimedAt})
            ON CONFLICT ("Name") DO NOTHING
            """, cancellationToken);
        return await db.ModelNames.AsNoTracking().SingleAsync(n => n.Name == name, cancellationToken);
    }

    /// <summary>
    /// Claims <paramref name="name"/> for <paramref name="owner"/> (see <see cref="ClaimAsync"/>) and answers null when
    /// the key may register versions under it, or the record of the other key's name when it may not.
    /// </summary>
    public static async Task<ModelName?> TakenAsync(RegistryDbContext db, string name, Owner owner, bool isAdmin,
        CancellationToken cancellationToken)
    {
        var claimed = await ClaimAsync(db, name, owner, cancellationToken);
        return claimed.AllowsRegistrationBy(owner.Id, isAdmin) ? null : claimed;
    }

    /// <summary>
    /// <see cref="TakenAsync"/> for a request: null when the caller may register under <paramref name="name"/>, or a
    /// 409 naming the field <paramref name="field"/> when the name is another key's.
    /// </summary>
    public static async Task<ProblemHttpResult?> RefuseUnlessMayRegisterAsync(RegistryDbContext db, string name,
        Caller caller, string field, CancellationToken cancellationToken) =>
        await TakenAsync(db, name, caller.AsOwner(), caller.IsAdmin, cancellationToken) is { } taken
            ? Taken(taken, field)
            : null;

    /// <summary>
    /// Takes the transaction-scoped lock under which a version of <paramref name="name"/> is numbered and added, so two
    /// registrations of one name (runs, imports) never take one number.
    /// </summary>
    public static Task LockVersionsAsync(RegistryDbContext db, string name, CancellationToken cancellationToken) =>
        Platform.ServiceDefaults.Persistence.AdvisoryLocks.LockAsync(db, "versions:" + name, cancellationToken);

    public static ProblemHttpResult Taken(ModelName name, string field) => Problems.Invalid(
        new Dictionary<string, string[]>
        {
            [field] = [$"'{name.Name}' belongs to {(name.OwnerName is { Length: > 0 } o ? $"the key '{o}'" : "admins")}"
                       + ": its owner or an admin can share it with you "
                       + $"(PUT /api/models/{name.Name}/sharing), or choose another name."],
        },
        statusCode: StatusCodes.Status409Conflict, title: "The model name belongs to another key.");
}
