using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Security;

namespace Platform.ServiceDefaults.Messaging;

/// <summary>One outbox row as an admin sees it (the body is left out: it may carry a user's data).</summary>
public sealed record OutboxRowResponse(long Id, string MessageType, string? DestinationQueue, string State,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DispatchedAt, int Attempts, DateTimeOffset? NextAttemptAt, string? LastError,
    DateTimeOffset? ParkedAt, string? TraceParent)
{
    public static OutboxRowResponse From(OutboxMessage m) => new(m.Id, m.MessageType.Split(',')[0], m.DestinationQueue,
        OutboxStates.Of(m), m.CreatedAt, m.DispatchedAt, m.Attempts, m.NextAttemptAt, m.LastError, m.ParkedAt,
        m.TraceParent);
}

/// <summary>
/// Where a page of an outbox ended, newest first by creation time and then id. The gateway also builds one per outbox
/// to continue its merged overview: <see cref="Id"/> = long.MaxValue takes every row created at <see cref="At"/>,
/// long.MinValue none of them.
/// </summary>
public sealed record OutboxPosition(DateTimeOffset At, long Id);

public static class OutboxStates
{
    public const string Pending = "pending", Parked = "parked", Dispatched = "dispatched";
    public static readonly string[] All = [Pending, Parked, Dispatched];

    public static string Of(OutboxMessage m) => m.DispatchedAt is not null ? Dispatched : m.ParkedAt is not null
        ? Parked : Pending;
}

/// <summary>
/// The service's own outbox for admins (the gateway gathers every service's under /api/admin/outbox): list rows by
/// state, and send a parked row again.
/// </summary>
public static class OutboxAdminApi
{
    public const string DefaultPath = "/api/admin/outbox";

    /// <summary>Where the outbox of a module with one of its own is administered in its host (the registry's:
    /// /api/admin/registry-outbox).</summary>
    public static string ModulePath(string module) => $"/api/admin/{module}-outbox";

    /// <summary>The admin endpoints of one outbox, at <paramref name="path"/> (a module with its own outbox, like the
    /// registry, has its own path).</summary>
    public static IEndpointRouteBuilder MapOutboxAdminApi<TContext>(this IEndpointRouteBuilder app,
        string path = DefaultPath) where TContext : DbContext, IOutboxContext
    {
        var group = app.MapGroup(path).WithTags("Outbox").RequireAuthorization(p => p.RequireRole(Roles.Admin));
        group.MapGet("", ListAsync<TContext>);
        group.MapPost("/{id:long}/retry", RetryAsync<TContext>);
        return app;
    }

    /// <summary>The query's limit and cursor, or the fields at fault (a state other than pending, parked or dispatched;
    /// a limit out of range; a cursor not ours).</summary>
    public static (int Limit, TPosition? Position, ValidationErrors Errors) ReadQuery<TPosition>(string state,
        int? limit, string? cursor)
        where TPosition : class
    {
        var (take, position, errors) = Pages.Read<TPosition>(limit, cursor);
        errors.Require(OutboxStates.All.Contains(state), "state",
            $"must be one of {string.Join(", ", OutboxStates.All)}.");
        return (take, position, errors);
    }

    /// <summary>Rows in one state, newest first, a page at a time (limit, cursor).</summary>
    private static async Task<Results<Ok<Page<OutboxRowResponse>>,
        ProblemHttpResult>> ListAsync<TContext>(TContext db, string? state, int? limit,
        string? cursor, CancellationToken cancellationToken) where TContext : DbContext, IOutboxContext
    {
        state ??= OutboxStates.Parked;
        var (take, after, errors) = ReadQuery<OutboxPosition>(state, limit, cursor);
        if (!errors.IsValid)
            return Pages.Invalid(errors);
        var rows = db.OutboxMessages.AsNoTracking();
        rows = state switch
        {
            OutboxStates.Parked => rows.Where(m => m.ParkedAt != null && m.DispatchedAt == null),
            OutboxStates.Pending => rows.Where(m => m.ParkedAt == null && m.DispatchedAt == null),
            _ => rows.Where(m => m.DispatchedAt != null),
        };
        if (after is { } p)
            rows = rows.Where(m => m.CreatedAt < p.At || m.CreatedAt == p.At && m.Id < p.Id);
        return TypedResults.Ok(await rows.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id)
            .PageAsync(take, m => new OutboxPosition(m.CreatedAt, m.Id), OutboxRowResponse.From, cancellationToken));
    }

    private static async Task<Results<Ok<OutboxRowResponse>,
        ProblemHttpResult>> RetryAsync<TContext>(TContext db, long id,
        CancellationToken cancellationToken) where TContext : DbContext, IOutboxContext
    {
        var row = await db.OutboxMessages.FindAsync([id], cancellationToken);
        if (row is null)
            return Problems.NotFound("Outbox row not found.", $"This service's outbox has no row {id}.");
        if (!row.IsParked || row.DispatchedAt is not null)
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "Only a parked row can be retried.",
                detail: $"Outbox row {id} is {OutboxStates.Of(row)}.");
        row.Unpark();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(OutboxRowResponse.From(row));
    }
}
