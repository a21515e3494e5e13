using Platform.ServiceDefaults.Http;
using Gateway.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Security;

namespace Gateway.Apis;

public sealed record AuditEntryResponse(long Id, DateTimeOffset At, Guid KeyId, string KeyName, string Role,
    string Method, string Path,
    int Status, string? Location, long DurationMilliseconds, string? RemoteAddress, string? Detail)
{
    public static AuditEntryResponse From(AuditEntry a) =>
        new(a.Id, a.At, a.KeyId, a.KeyName, a.Role, a.Method, a.Path, a.Status, a.Location, a.DurationMilliseconds,
            a.RemoteAddress, a.Detail);
}

/// <summary>A page of entries, newest first; pass NextBefore as before= for the next (older) page.</summary>

/// <summary>Where a page of the audit log ended.</summary>
public sealed record AuditPosition(long Id);

public static class AuditApi
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/audit", ListAsync).WithTags("Audit").RequireAuthorization(Roles.Admin);
        return app;
    }

    /// <summary>The audit log, newest first, a page at a time (limit 1–1000, default 100; cursor); keyId filters by
    /// key.</summary>
    private static async Task<Results<Ok<Page<AuditEntryResponse>>,
        ProblemHttpResult>> ListAsync(AccessDbContext db, int? limit, string? cursor,
        Guid? keyId, CancellationToken cancellationToken)
    {
        var (take, after, errors) = Pages.Read<AuditPosition>(limit, cursor);
        if (!errors.IsValid)
            return Pages.Invalid(errors);
        var query = db.Audit.AsNoTracking();
        if (after is { } position)
            query = query.Where(a => a.Id < position.Id);
        if (keyId is { } k)
            query = query.Where(a => a.KeyId == k);
        return TypedResults.Ok(await query.OrderByDescending(a => a.Id).PageAsync(take, a => new AuditPosition(a.Id),
            AuditEntryResponse.From, cancellationToken));
    }
}
