using Gateway.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Security;

namespace Gateway.Apis;

public sealed record AuditEntryResponse(long Id, DateTimeOffset At, Guid KeyId, string KeyName, string Role, string Method, string Path,
    int Status, string? Location, long DurationMilliseconds, string? RemoteAddress)
{
    public static AuditEntryResponse From(AuditEntry a) =>
        new(a.Id, a.At, a.KeyId, a.KeyName, a.Role, a.Method, a.Path, a.Status, a.Location, a.DurationMilliseconds, a.RemoteAddress);
}

/// <summary>A page of entries, newest first; pass NextBefore as before= for the next (older) page.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntryResponse> Entries, long? NextBefore);

public static class AuditApi
{
    public const int DefaultLimit = 100, MaxLimit = 1000;

    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/audit", ListAsync).WithTags("Audit").RequireAuthorization(Roles.Admin);
        return app;
    }

    /// <summary>The audit log, newest first: limit (1–1000, default 100) entries with ids below before; keyId filters by key.</summary>
    private static async Task<Results<Ok<AuditPage>, ValidationProblem>> ListAsync(AccessDbContext db, int? limit, long? before, Guid? keyId,
        CancellationToken cancellationToken)
    {
        if (limit is < 1 or > MaxLimit)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [$"must be between 1 and {MaxLimit}."] });
        var query = db.Audit.AsNoTracking();
        if (before is { } b)
            query = query.Where(a => a.Id < b);
        if (keyId is { } k)
            query = query.Where(a => a.KeyId == k);
        var take = limit ?? DefaultLimit;
        var entries = await query.OrderByDescending(a => a.Id).Take(take).ToListAsync(cancellationToken);
        return TypedResults.Ok(new AuditPage(entries.Select(AuditEntryResponse.From).ToList(), entries.Count == take ? entries[^1].Id : null));
    }
}
