using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Security;
using Training.Registry.Data;

namespace Training.Registry.Apis;

/// <summary>Who a model name belongs to and the keys it is shared with (see <see cref="ModelName"/>).</summary>
public sealed record ModelNameResponse(string Name, Owner? Owner, IReadOnlyList<Guid> Editors, DateTimeOffset ClaimedAt)
{
    public static ModelNameResponse From(ModelName n) => new(n.Name, n.OwnerOf(), n.Editors, n.ClaimedAt);
}

/// <summary>PUT body: the keys (ids) that may register versions under the name beside its owner; [] shares it with
/// none.</summary>
public sealed record ShareNameRequest(List<Guid>? Editors);

public static class ModelNamesApi
{
    public static IEndpointRouteBuilder MapModelNamesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/models/{name}/sharing").WithTags("Models");
        group.MapGet("/", GetAsync);
        group.MapPut("/", ShareAsync);
        return app;
    }

    private static async Task<Results<Ok<ModelNameResponse>, ProblemHttpResult>> GetAsync(string name,
        RegistryDbContext db, CancellationToken cancellationToken) =>
        await db.ModelNames.AsNoTracking().FirstOrDefaultAsync(n => n.Name == name, cancellationToken) is { } found
            ? TypedResults.Ok(ModelNameResponse.From(found))
            : NotClaimed(name);

    /// <summary>
    /// By the name's owner or an admin: replaces the keys the name is shared with. A team shares a name this way; an
    /// admin may share any name, including one whose owner's key was revoked.
    /// </summary>
    private static async Task<Results<Ok<ModelNameResponse>, ProblemHttpResult>> ShareAsync(string name,
        HttpContext http, RegistryDbContext db, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<ShareNameRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors();
        errors.Require(body!.Editors is not null, "editors",
            "is required: a list of key ids ([] shares the name with none).");
        errors.Require(body.Editors is null || body.Editors.Count <= ModelName.MaxEditors, "editors",
            $"must hold at most {ModelName.MaxEditors} key ids.");
        errors.Require(body.Editors is null || !body.Editors.Contains(Guid.Empty), "editors",
            "must hold key ids, not the empty id.");
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The sharing is invalid.");
        var found = await db.ModelNames.FirstOrDefaultAsync(n => n.Name == name, cancellationToken);
        if (found is null)
            return NotClaimed(name);
        if (!http.Caller().MayChange(found.OwnerId))
            return AccessProblems.NotOwner("model name");
        found.ShareWith(body.Editors!);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(ModelNameResponse.From(found));
    }

    private static ProblemHttpResult NotClaimed(string name) =>
        Problems.NotFound("Model name not found.", $"No run, sweep or import has used the name '{name}'.");
}
