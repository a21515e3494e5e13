using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.ServiceDefaults.Persistence;

/// <summary>
/// Database trouble answers as what it is instead of a 500: a row changed by someone else meanwhile (another request,
/// or a training worker taking a run over) is a 409 to retry; a database that does not answer (restarting, unreachable)
/// is a 503 with Retry-After. Both are problem details.
/// </summary>
public sealed class DatabaseExceptionHandler(IProblemDetailsService problems,
    ILogger<DatabaseExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception,
        CancellationToken cancellationToken)
    {
        var (status, title) = exception switch
        {
            DbUpdateConcurrencyException =>
                (StatusCodes.Status409Conflict, "The resource changed while the request was handled; send it again."),
            _ when IsUnavailable(exception) =>
            (StatusCodes.Status503ServiceUnavailable, "The database is not answering; try again shortly."),
            _ => (0, ""),
        };
        if (status == 0)
            return false;
        logger.LogWarning("{Method} {Path} answered {Status}: {Error}", context.Request.Method, context.Request.Path,
            status, exception.GetBaseException().GetType().Name);
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable)
            context.Response.Headers.RetryAfter = "5";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title },
        });
    }

    /// <summary>Npgsql's transient errors (connection refused or reset, the server shutting down) anywhere in the
    /// chain.</summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or SocketException or TimeoutException
                || e is PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" })
                return true;
        }
        return false;
    }
}
