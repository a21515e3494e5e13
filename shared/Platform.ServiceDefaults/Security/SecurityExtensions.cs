using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Platform.ServiceDefaults.Security;

public static class SecurityExtensions
{
    /// <summary>Configuration key (or environment variable) of the secret the gateway signs callers with.</summary>
    public const string InternalSecretKey = "PLATFORM_INTERNAL_SECRET";

    /// <summary>The value .env.example gives every secret: a service refuses to start with one still beginning
    /// so.</summary>
    public const string PlaceholderPrefix = "change-me";

    /// <summary>The signer/verifier of the caller header; the service refuses to start without a usable
    /// secret.</summary>
    public static IHostApplicationBuilder AddCallerSignature(this IHostApplicationBuilder builder)
    {
        var secret = builder.Configuration[InternalSecretKey];
        RefusePlaceholder(InternalSecretKey, secret);
        if (string.IsNullOrWhiteSpace(secret) || secret.Length < CallerSignature.MinimumSecretLength)
            throw new InvalidOperationException(
                $"{InternalSecretKey} must be set to a secret of at least {CallerSignature.MinimumSecretLength} " +
                $"characters, the same for the gateway " +
                "and every service (infra/services-up.sh generates one into .data/internal-secret; docker compose " +
                "reads it from .env).");
        builder.Services.AddSingleton(new CallerSignature(secret));
        return builder;
    }

    /// <summary>Throws when a secret is still the example's placeholder.</summary>
    public static void RefusePlaceholder(string setting, string? value)
    {
        if (value?.Trim().StartsWith(PlaceholderPrefix, StringComparison.OrdinalIgnoreCase) == true)
            throw new InvalidOperationException($"{setting} is still the example value from .env.example: replace it " +
                $"with a secret of your own.");
    }

    /// <summary>
    /// A service behind the gateway: every endpoint but health needs the gateway's signed caller header, and
    /// the service's own outgoing calls can be signed as the service (<see cref="ServiceIdentityHandler"/>).
    /// </summary>
    public static IHostApplicationBuilder AddGatewayCallers(this IHostApplicationBuilder builder, string serviceName)
    {
        builder.AddCallerSignature();
        builder.Services.AddSingleton(new ServiceName(serviceName));
        builder.Configuration.AddRouteTable();
        builder.Services.AddSingleton(services => new RouteRoles(builder.Configuration, serviceName));
        builder.Services.AddAuthentication(GatewayCallerAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions,
            GatewayCallerAuthenticationHandler>(GatewayCallerAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        return builder;
    }

    /// <summary>The authenticated caller of a request (authorization has already refused anonymous ones).</summary>
    public static Caller Caller(this Microsoft.AspNetCore.Http.HttpContext context) =>
        Security.Caller.From(context.User)
        ?? throw new InvalidOperationException("The request has no authenticated caller.");
}
