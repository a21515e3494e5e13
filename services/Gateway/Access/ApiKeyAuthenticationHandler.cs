using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Platform.ServiceDefaults.Security;

namespace Gateway.Access;

/// <summary>
/// Authenticates a request by its API key, sent as "Authorization: Bearer &lt;key&gt;" (what OpenAI clients send)
/// or "X-Api-Key: &lt;key&gt;". No key, or an unknown or revoked one, is challenged with a 401 problem; a key whose
/// role lacks the right is forbidden with a 403 problem.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys, FailedAuthentications failures)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>Set on a request whose key was not looked up: its address had spent its failures.</summary>
    private sealed record Throttled(TimeSpan RetryAfter);

    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var secret = PresentedSecret(Request);
        if (secret is null)
            return AuthenticateResult.NoResult();
        // Hashed once: the cache and the database are both keyed by the hash.
        var hash = ApiKeySecret.Hash(secret);
        var key = await keys.FindCachedAsync(hash, Context.RequestAborted);
        if (key is null)
        {
            var address = Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            if (failures.IsExhausted(address, out var retryAfter))
            {
                Context.Features.Set(new Throttled(retryAfter));
                return AuthenticateResult.Fail("too many failed authentications from this address");
            }
            key = await keys.FindActiveAsync(hash, Context.RequestAborted);
            if (key is null)
            {
                failures.Record(address);
                return AuthenticateResult.Fail("unknown or revoked API key");
            }
        }
        // The key itself (with its own limits) travels on the request for the rate limiter.
        Context.Features.Set(key);
        return AuthenticateResult.Success(new AuthenticationTicket(new Caller(key.Id, key.Name,
            key.Role).ToPrincipal(SchemeName), SchemeName));
    }

    public static string? PresentedSecret(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7)
            return authorization[7..].Trim();
        var header = request.Headers[HeaderName].ToString().Trim();
        return header.Length > 0 ? header : null;
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Features.Get<Throttled>() is { } throttled)
        {
            Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(throttled.RetryAfter.TotalSeconds))
                .ToString(System.Globalization.CultureInfo.InvariantCulture);
            await AccessProblems.WriteAsync(Context, StatusCodes.Status429TooManyRequests,
                "Too many failed authentications.",
                "This address presented too many unknown or revoked API keys; none is checked until Retry-After.");
            return;
        }
        var presented = PresentedSecret(Request) is not null;
        Response.Headers[HeaderNames.WWWAuthenticate] = presented ? "Bearer error=\"invalid_token\"" : "Bearer";
        await AccessProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized,
            presented ? "Unknown or revoked API key." : "An API key is required.",
            presented
                ? "The API key sent is not known or has been revoked."
                : "Send an API key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var caller = Caller.From(Context.User);
        return AccessProblems.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden.",
            $"The key '{caller?.Name}' has the role '{caller?.Role}', which may not {Request.Method} {Request.Path}.");
    }
}
