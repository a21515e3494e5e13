using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Security;
using Training.Registry.Data;
using Training.Registry;

namespace Training.Registry.Apis;

/// <summary>The version an alias points to, and optionally how that version is served from now on ("int8" or
/// "none").</summary>
public sealed record MoveAliasRequest(int? Version, string? Quantization = null);

public sealed record GateRequest(Dictionary<string, GateBound>? Requires);

public sealed record AliasResponse(string Name, string Alias, int Version, DateTimeOffset UpdatedAt, string UpdatedBy)
{
    public static AliasResponse From(ModelAlias a) => new(a.Name, a.Alias, a.Version, a.UpdatedAt, a.UpdatedBy);
}

public sealed record AliasMoveResponse(long Id, string Alias, int? FromVersion, int? ToVersion, string By,
    DateTimeOffset At)
{
    public static AliasMoveResponse From(ModelAliasMove m) =>
        new(m.Id, m.Alias, m.FromVersion, m.ToVersion, m.By, m.At);
}

public sealed record GateResponse(string Alias, Dictionary<string, GateBound> Requires, DateTimeOffset UpdatedAt,
    string UpdatedBy)
{
    public static GateResponse From(PromotionGate g) => new(g.Alias, g.Requires, g.UpdatedAt, g.UpdatedBy);
}

public sealed record AliasesResponse(string Name, IReadOnlyList<AliasResponse> Aliases,
    IReadOnlyList<GateResponse> Gates, IReadOnlyList<AliasMoveResponse> History);

/// <summary>
/// Aliases ("production" → v3) and their promotion gates. Setting or moving an alias is for the owner of the version it
/// will point to (and of the one it points to now) or an admin; gates are for admins. Every change is kept in the
/// alias history and announced as ModelAliasMoved, which Generation and Evaluation follow.
/// </summary>
public static class AliasesApi
{
    public static IEndpointRouteBuilder MapAliasesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/models/{name}").WithTags("Models");
        group.MapGet("/aliases", ListAsync);
        group.MapPut("/aliases/{alias}", MoveAsync);
        group.MapDelete("/aliases/{alias}", RemoveAsync);
        group.MapPut("/gates/{alias}", SetGateAsync);
        group.MapDelete("/gates/{alias}", RemoveGateAsync);
        return app;
    }

    private static ProblemHttpResult ModelNotFound(string name) =>
        Problems.NotFound("Model not found.", $"No model is named '{name}'.");

    private static ProblemHttpResult? InvalidAlias(string alias) => ModelAliases.IsValid(alias)
        ? null
        : TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The alias is invalid.",
            detail: "alias: must be 1-40 lower-case letters, digits, '_' or '-', starting with a letter, and not " +
            "'latest' (always the highest version).",
            extensions: new Dictionary<string,
            object?>
            { ["errors"] = new Dictionary<string, string[]> { ["alias"] = ["is not a valid alias name."] } });

    private static async Task<Results<Ok<AliasesResponse>,
        ProblemHttpResult>> ListAsync(string name, RegistryDbContext db, CancellationToken cancellationToken)
    {
        if (!await db.ModelVersions.AnyAsync(v => v.Name == name, cancellationToken))
            return ModelNotFound(name);
        var aliases = await db.ModelAliases.AsNoTracking().Where(a => a.Name == name).OrderBy(a =>
            a.Alias).ToListAsync(cancellationToken);
        var gates = await db.PromotionGates.AsNoTracking().Where(g => g.Name == name).OrderBy(g =>
            g.Alias).ToListAsync(cancellationToken);
        var history = await db.ModelAliasMoves.AsNoTracking().Where(m => m.Name == name).OrderByDescending(m =>
            m.Id).Take(100).ToListAsync(cancellationToken);
        return TypedResults.Ok(new AliasesResponse(name, [.. aliases.Select(AliasResponse.From)],
            [.. gates.Select(GateResponse.From)],
            [.. history.Select(AliasMoveResponse.From)]));
    }

    /// <summary>
    /// Points the alias at {"version": N}, atomically: under a lock on the model, the gate is checked against that
    /// version's figures (409 naming each failing figure), the move is recorded, and the event leaves with the same
    /// commit.
    /// </summary>
    private static async Task<Results<Ok<AliasResponse>, ProblemHttpResult>> MoveAsync(string name, string alias,
        HttpContext http,
        RegistryDbContext db, CancellationToken cancellationToken)
    {
        if (InvalidAlias(alias) is { } invalid)
            return invalid;
        var (body, problem) = await JsonBody.ReadAsync<MoveAliasRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        if (body!.Version is not ({ } number and >= 1))
            return Problems.Invalid("version", "is required: the version number the alias points to.",
                "The alias move is invalid.");
        if (ModelsApi.QuantizationProblem(body.Quantization, "The alias move is invalid.") is { } invalidQuantization)
            return invalidQuantization;

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await AliasBook.LockAsync(db, name, cancellationToken);
        var version = await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Name == name
            && v.Version == number, cancellationToken);
        if (version is null)
            return await db.ModelVersions.AnyAsync(v => v.Name == name, cancellationToken)
                ? Problems.NotFound("Model version not found.", $"Model '{name}' has no version {number}.")
                : ModelNotFound(name);
        var caller = http.Caller();
        var from = await AliasBook.TargetAsync(db, name, alias, cancellationToken);
        if (!caller.MayChange(version.OwnerId) || from is not null && !caller.MayChange(from.OwnerId))
            return AccessProblems.NotOwner("model version");

        var checks = await AliasBook.GateChecksAsync(db, name, alias, version, cancellationToken);
        if (checks.Where(c => !c.Passes).ToList() is { Count: > 0 } failing)
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "The version does not pass the alias's gate.",
                detail: string.Join("; ", failing.Select(c => c.Value is { } v
                    ? $"{c.Figure} is {v:G6}, the gate requires {Bounds(c)}"
                    : $"{name} v{number} has no {c.Figure}, the gate requires {Bounds(c)}")),
                extensions: new Dictionary<string, object?> { ["checks"] = checks });

        if (body.Quantization is { } quantization)
        {
            // Promoted and served int8 (or as trained) in the same commit.
            var tracked = await db.ModelVersions.FirstAsync(v => v.Id == version.Id, cancellationToken);
            if (ModelsApi.SetQuantization(db, tracked, quantization, "The alias move is invalid.") is { } refused)
                return refused;
        }
        var moved = await AliasBook.MoveAsync(db, name, alias, number, caller.Name, caller.KeyId, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(AliasResponse.From(moved!));
    }

    private static string Bounds(GateCheck c) => (c.Min, c.Max) switch
    {
        ({ } min, { } max) => $"{min:G6} ≤ {c.Figure} ≤ {max:G6}",
        ({ } min, null) => $"{c.Figure} ≥ {min:G6}",
        (null, { } max) => $"{c.Figure} ≤ {max:G6}",
        _ => "a value",
    };

    private static async Task<Results<NoContent,
        ProblemHttpResult>> RemoveAsync(string name, string alias, HttpContext http, RegistryDbContext db,
        CancellationToken cancellationToken)
    {
        if (InvalidAlias(alias) is { } invalid)
            return invalid;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await AliasBook.LockAsync(db, name, cancellationToken);
        var current = await db.ModelAliases.AsNoTracking().FirstOrDefaultAsync(a => a.Name == name && a.Alias == alias,
            cancellationToken);
        if (current is null)
            return Problems.NotFound("Alias not found.", $"Model '{name}' has no alias '{alias}'.");
        var caller = http.Caller();
        var version = await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Name == name
            && v.Version == current.Version, cancellationToken);
        if (!caller.MayChange(version?.OwnerId))
            return AccessProblems.NotOwner("model version");
        await AliasBook.MoveAsync(db, name, alias, null, caller.Name, caller.KeyId, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Admins only: {"requires": {"val_loss": {"max": 1.9}, "top1_accuracy": {"min": 0.4}}} for moves onto the
    /// alias from now on.</summary>
    private static async Task<Results<Ok<GateResponse>, ProblemHttpResult>> SetGateAsync(string name, string alias,
        HttpContext http,
        RegistryDbContext db, CancellationToken cancellationToken)
    {
        if (InvalidAlias(alias) is { } invalid)
            return invalid;
        var caller = http.Caller();
        if (!caller.IsAdmin)
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.",
                detail: "Only an admin may set a promotion gate.");
        var (body, problem) = await JsonBody.ReadAsync<GateRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors();
        errors.Require(body!.Requires is { Count: > 0 }, "requires", "must name at least one figure with its bounds.");
        foreach (var (figure, bound) in body.Requires ?? [])
        {
            errors.Require(GateFigures.IsKnown(figure), $"requires.{figure}",
                $"is not a figure; use one of {string.Join(", ", GateFigures.Names)}.");
            errors.Require(bound is { Min: not null } or { Max: not null }, $"requires.{figure}",
                "must set min, max or both.");
            errors.Require(bound is not { Min: { } lo, Max: { } hi } || lo <= hi, $"requires.{figure}",
                "min must not be above max.");
            errors.Require(bound is null || (bound.Min is not { } m || double.IsFinite(m))
                && (bound.Max is not { } x || double.IsFinite(x)),
                $"requires.{figure}", "bounds must be finite numbers.");
        }
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The gate is invalid.");
        if (!await db.ModelVersions.AnyAsync(v => v.Name == name, cancellationToken))
            return ModelNotFound(name);

        var gate = await db.PromotionGates.FirstOrDefaultAsync(g => g.Name == name && g.Alias == alias,
            cancellationToken);
        if (gate is null)
            db.PromotionGates.Add(gate = PromotionGate.Create(name, alias));
        gate.Require(body.Requires!, caller.Name, DateTimeOffset.UtcNow);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(GateResponse.From(gate));
    }

    private static async Task<Results<NoContent,
        ProblemHttpResult>> RemoveGateAsync(string name, string alias, HttpContext http, RegistryDbContext db,
        CancellationToken cancellationToken)
    {
        if (!http.Caller().IsAdmin)
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.",
                detail: "Only an admin may remove a promotion gate.");
        var deleted = await db.PromotionGates.Where(g => g.Name == name
            && g.Alias == alias).ExecuteDeleteAsync(cancellationToken);
        return deleted == 0
            ? Problems.NotFound("Gate not found.", $"Model '{name}' has no gate on '{alias}'.")
            : TypedResults.NoContent();
    }
}
