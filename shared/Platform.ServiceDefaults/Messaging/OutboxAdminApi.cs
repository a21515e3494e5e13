using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Security;

namespace Platform.ServiceDefaults.Messaging;

/// <summary>One outbox row as an admin sees it (the body is left out: it may carry a user's data).</summary>
public sealed record OutboxRowResponse(long Id, string MessageType, string? DestinationQueue, string State, DateTimeOffset CreatedAt,
    DateTimeOffset? DispatchedAt, int Attempts, DateTimeOffset? NextAttemptAt, string? LastError, DateTimeOffset? ParkedAt, string? TraceParent)
{
    public static OutboxRowResponse From(OutboxMessage m) => new(m.Id, m.MessageType.Split(',')[0], m.DestinationQueue,
        OutboxStates.Of(m), m.CreatedAt, m.DispatchedAt, m.Attempts, m.NextAttemptAt, m.LastError, m.ParkedAt, m.TraceParent);
}

public sealed record OutboxPage(IReadOnlyList<OutboxRowResponse> Rows);

public static class OutboxStates
{
    public const string Pending = "pending", Parked = "parked", Dispatched = "dispatched";
    public static readonly string[] All = [Pending, Parked, Dispatched];

    public static string Of(OutboxMessage m) => m.DispatchedAt is not null ? Dispatched : m.ParkedAt is not null ? Parked : Pending;
}

/// <summary>
/// The service's own outbox for admins (the gateway gathers every service's under /api/admin/outbox): list rows by
/// state, and send a parked row again.
/// </summary>
public static class OutboxAdminApi
{
    public const int DefaultLimit = 100, MaxLimit = 1000;

    public const string DefaultPath = "/api/admin/outbox";

    /// <summary>The admin endpoints of one outbox, at <paramref name="path"/> (a module with its own outbox, like the registry, has its own path).</summary>
    public static IEndpointRouteBuilder MapOutboxAdminApi<TContext>(this IEndpointRouteBuilder app, string path = DefaultPath) where TContext : DbContext, IOutboxContext
    {
        var group = app.MapGroup(path).WithTags("Outbox").RequireAuthorization(p => p.RequireRole(Roles.Admin));
        group.MapGet("", ListAsync<TContext>);
        group.MapPost("/{id:long}/retry", RetryAsync<TContext>);
        return app;
    }

    /// <summary>The field at fault in a listing's query (a state other than pending, parked or dispatched; a limit out of range), or null.</summary>
    public static Dictionary<string, string[]>? InvalidQuery(string state, int? limit) =>
        !OutboxStates.All.Contains(state) ? new() { ["state"] = [$"must be one of {string.Join(", ", OutboxStates.All)}."] }
        : limit is < 1 or > MaxLimit ? new() { ["limit"] = [$"must be between 1 and {MaxLimit}."] }
        : null;

    private static async Task<Results<Ok<OutboxPage>, ValidationProblem>> ListAsync<TContext>(TContext db, string? state, int? limit,
        CancellationToken cancellationToken) where TContext : DbContext, IOutboxContext
    {
        state ??= OutboxStates.Parked;
        if (InvalidQuery(state, limit) is { } errors)
            return TypedResults.ValidationProblem(errors);
        var rows = db.OutboxMessages.AsNoTracking();
        rows = state switch
        {
            OutboxStates.Parked => rows.Where(m => m.ParkedAt != null && m.DispatchedAt == null),
            OutboxStates.Pending => rows.Where(m => m.ParkedAt == null && m.DispatchedAt == null),
            _ => rows.Where(m => m.DispatchedAt != null),
        };
        var page = await rows.OrderByDescending(m => m.Id).Take(limit ?? DefaultLimit).ToListAsync(cancellationToken);
        return TypedResults.Ok(new OutboxPage(page.Select(OutboxRowResponse.From).ToList()));
    }

    private static async Task<Results<Ok<OutboxRowResponse>, ProblemHttpResult>> RetryAsync<TContext>(TContext db, long id,
        CancellationToken cancellationToken) where TContext : DbContext, IOutboxContext
    {
        var row = await db.OutboxMessages.FindAsync([id], cancellationToken);
        if (row is null)
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Outbox row not found.", detail: $"This service's outbox has no row {id}.");
        if (!row.IsParked || row.DispatchedAt is not null)
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Only a parked row can be retried.",
                detail: $"Outbox row {id} is {OutboxStates.Of(row)}.");
        row.Unpark();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(OutboxRowResponse.From(row));
    }
}
