using Gateway.Access;
using Gateway.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Security;

namespace Gateway.Apis;

public sealed record CreateKeyRequest(string? Name, string? Role, int? RequestsPerSecond,
    int? MaxConcurrentGenerations);

/// <summary>A key as listed: never its secret.</summary>
public sealed record KeyResponse(Guid Id, string Name, string Role, string Prefix, int? RequestsPerSecond,
    int? MaxConcurrentGenerations,
    bool Bootstrap, string? CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    public static KeyResponse From(ApiKey k) =>
        new(k.Id, k.Name, k.Role, k.Prefix, k.RequestsPerSecond, k.MaxConcurrentGenerations,
        k.IsBootstrap, k.CreatedByName, k.CreatedAt, k.LastUsedAt, k.RevokedAt);
}

/// <summary>A new key with its secret: the only time the secret is shown.</summary>
public sealed record CreatedKeyResponse(Guid Id, string Name, string Role, string Key, string Prefix,
    int? RequestsPerSecond,
    int? MaxConcurrentGenerations, DateTimeOffset CreatedAt);

public sealed record CallerResponse(Guid Id, string Name, string Role);

public static class KeysApi
{
    public const int MaxRequestsPerSecond = 100_000, MaxGenerations = 1_000;

    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/keys").WithTags("Keys").RequireAuthorization(Roles.Admin);
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapDelete("/{id:guid}", RevokeAsync);
        // Any key may ask who it is (scripts and the CLI check their key this way).
        app.MapGet("/api/keys/me", (HttpContext http) =>
        {
            var me = http.Caller();
            return TypedResults.Ok(new CallerResponse(me.KeyId, me.Name, me.Role));
        }).WithTags("Keys").RequireAuthorization(Roles.Viewer);
        return app;
    }

    private static async Task<Results<Created<CreatedKeyResponse>, ProblemHttpResult>> CreateAsync(
        HttpContext http, AccessDbContext db, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<CreateKeyRequest>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors();
        var name = body!.Name?.Trim() ?? "";
        errors.Require(name.Length is > 0 and <= ApiKeySecret.MaxNameLength, "name",
            $"is required and must be at most {ApiKeySecret.MaxNameLength} characters.");
        errors.Require(Roles.IsKnown(body.Role), "role", $"must be one of {string.Join(", ", Roles.All)}.");
        if (body.RequestsPerSecond is { } rps)
            errors.Range(rps, 1, MaxRequestsPerSecond, "requestsPerSecond");
        if (body.MaxConcurrentGenerations is { } generations)
            errors.Range(generations, 1, MaxGenerations, "maxConcurrentGenerations");
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The key is invalid.");

        var secret = ApiKeySecret.New();
        var key = ApiKey.Create(name, body.Role!, secret, body.RequestsPerSecond, body.MaxConcurrentGenerations,
            http.Caller());
        db.Keys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/keys/{key.Id}",
            new CreatedKeyResponse(key.Id, key.Name, key.Role, secret, key.Prefix,
            key.RequestsPerSecond, key.MaxConcurrentGenerations, key.CreatedAt));
    }

    /// <summary>Keys, newest first, a page at a time (limit, cursor); revoked ones only when asked for.</summary>
    private static async Task<Results<Ok<Page<KeyResponse>>,
        ProblemHttpResult>> ListAsync(AccessDbContext db, bool? includeRevoked, int? limit,
        string? cursor, CancellationToken cancellationToken)
    {
        var (take, after, errors) = Pages.Read<CreatedPosition>(limit, cursor);
        if (!errors.IsValid)
            return Pages.Invalid(errors);
        var query = db.Keys.AsNoTracking();
        if (includeRevoked != true)
            query = query.Where(k => k.RevokedAt == null);
        return TypedResults.Ok(await query.NewestFirstPageAsync(take, after, KeyResponse.From, cancellationToken));
    }

    private static async Task<Results<Ok<KeyResponse>,
        ProblemHttpResult>> GetAsync(Guid id, AccessDbContext db, CancellationToken cancellationToken) =>
        await db.Keys.AsNoTracking().FirstOrDefaultAsync(k => k.Id == id, cancellationToken) is { } key
            ? TypedResults.Ok(KeyResponse.From(key))
            : KeyNotFound(id);

    /// <summary>
    /// Revoked at once on this replica (its cached lookup is dropped and its open requests, event streams included,
    /// are ended); other replicas refuse the key, and end its open requests, once their cached lookups expire.
    /// </summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(Guid id, HttpContext http,
        AccessDbContext db, ApiKeyStore keys, OpenRequests open, CancellationToken cancellationToken)
    {
        var key = await db.Keys.FirstOrDefaultAsync(k => k.Id == id, cancellationToken);
        if (key is null)
            return KeyNotFound(id);
        try
        {
            key.Revoke(http.Caller());
        }
        catch (InvalidOperationException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "The key cannot be revoked here.", detail: ex.Message);
        }
        await db.SaveChangesAsync(cancellationToken);
        keys.Forget(key.SecretHash);
        open.Close(key.Id);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult KeyNotFound(Guid id) =>
        Problems.NotFound("Key not found.", $"No key has id {id}.");
}
