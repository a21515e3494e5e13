using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.ServiceDefaults.Persistence;

/// <summary>
/// A user's change that lost a race with a background writer is handled again from a fresh read, instead of answering
/// 409. The case that made this necessary: a user cancels a queued run in the same instant a training worker claims it.
/// The claim raises the run's lease token (a concurrency token), so the cancel's save finds the row changed. Read
/// again, the run is Training, and the same cancel is legal (it stops at the next step). A change that is no longer
/// legal after the fresh read is refused by the handler as usual. After the last attempt the conflict goes on to
/// <see cref="DatabaseExceptionHandler"/> (409).
/// </summary>
public static class ConflictRetry
{
    public const int Attempts = 3;

    /// <summary>Re-runs the endpoint's handler, with an emptied change tracker and the request body rewound, when
    /// SaveChanges meets a concurrency conflict.</summary>
    public static RouteHandlerBuilder RetriedOnConflict<TContext>(
        this RouteHandlerBuilder builder) where TContext : DbContext =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            http.Request.EnableBuffering();
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await next(context);
                }
                catch (DbUpdateConcurrencyException) when (attempt < Attempts && !http.Response.HasStarted)
                {
                    http.RequestServices.GetRequiredService<TContext>().ChangeTracker.Clear();
                    http.Request.Body.Position = 0;
                }
            }
        });
}
