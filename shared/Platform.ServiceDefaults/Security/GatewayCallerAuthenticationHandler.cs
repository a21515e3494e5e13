using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Platform.ServiceDefaults.Security;

/// <summary>
/// Authenticates the requests a service receives by the gateway's signed caller header. A request without
/// one did not come through the gateway and is refused with 401.
/// </summary>
public sealed class GatewayCallerAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger, UrlEncoder encoder, CallerSignature signature, ServiceName service)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "GatewayCaller";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(CallerSignature.HeaderName, out var header))
            return Task.FromResult(AuthenticateResult.NoResult());
        var request = new SignedRequest(Request.Method, (Request.PathBase + Request.Path).Value ?? "/", service.Value);
        return Task.FromResult(signature.Verify(header.ToString(), request, out var reason) is { } caller
            ? AuthenticateResult.Success(new AuthenticationTicket(caller.ToPrincipal(SchemeName), SchemeName))
            : AuthenticateResult.Fail($"caller header refused: {reason}"));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        AccessProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Not through the gateway.",
            "This service answers only requests that passed the gateway's authentication; send them to the gateway.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        AccessProblems.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden.",
        "The caller's role does not allow this.");
}
