using System.Diagnostics;
using Gateway.Data;
using Microsoft.AspNetCore.Authorization;
using Platform.ServiceDefaults.Security;

namespace Gateway.Audit;

/// <summary>
/// Appends one audit entry per write by an authenticated key, whatever its outcome (refusals included): every
/// request that is not a GET or HEAD, except on routes any viewer may use (generation, encoding), which change
/// nothing. Runs after authentication and before rate limiting and authorization, so it sees their refusals.
/// </summary>
public sealed class AuditMiddleware(RequestDelegate next, IServiceScopeFactory scopes, ILogger<AuditMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var caller = Caller.From(context.User);
        if (caller is null || !IsWrite(context))
        {
            await next(context);
            return;
        }
        var clock = Stopwatch.StartNew();
        string? detail = null;
        // The service's detail is for the log, not for the client: taken off the response before it is sent.
        context.Response.OnStarting(() =>
        {
            if (context.Response.Headers.Remove(AuditDetail.Header, out var value))
                detail = value.ToString();
            return Task.CompletedTask;
        });
        try
        {
            await next(context);
        }
        finally
        {
            await AppendAsync(context, caller, clock.ElapsedMilliseconds, detail);
        }
    }

    private static bool IsWrite(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)
            || HttpMethods.IsOptions(context.Request.Method))
            return false;
        var policies = context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy) ?? [];
        return !policies.Contains(Roles.Viewer);
    }

    private async Task AppendAsync(HttpContext context, Caller caller, long milliseconds, string? detail)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AccessDbContext>();
            db.Audit.Add(new AuditEntry
            {
                At = DateTimeOffset.UtcNow,
                KeyId = caller.KeyId,
                KeyName = caller.Name,
                Role = caller.Role,
                Method = context.Request.Method,
                Path = Truncate(context.Request.Path + context.Request.QueryString, 2048),
                Status = context.Response.StatusCode,
                Location = context.Response.Headers.Location.ToString() is { Length: > 0 } location
                ? Truncate(location, 2048) : null,
                DurationMilliseconds = milliseconds,
                RemoteAddress = context.Connection.RemoteIpAddress?.ToString(),
                Detail = detail is { Length: > 0 } ? Truncate(detail, AuditDetail.MaxLength) : null,
            });
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            // The write itself has happened; losing its entry is logged loudly rather than failing the response.
            logger.LogError("Audit entry for {Method} {Path} by key {KeyId} could not be written: {Message}",
                context.Request.Method, context.Request.Path, caller.KeyId, ex.Message);
        }
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
