using Gateway.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;

namespace Gateway.Access;

public static class AccessExtensions
{
    /// <summary>
    /// API keys: the gateway's schema (keys and audit), the ApiKey authentication scheme, one authorization policy
    /// per role (named after it: "viewer", "editor", "admin", each admitting the stronger roles too), and the
    /// bootstrap admin key. A route that names no policy needs an admin: anything added later is closed until
    /// someone decides who may use it.
    /// </summary>
    public static IHostApplicationBuilder AddApiKeys(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<AccessDbContext>(AccessDbContext.Schema);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddMemoryCache();
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<FailedAuthentications>();
        builder.Services.AddSingleton<OpenRequests>();
        builder.Services.AddHostedService<RevokedKeyWatcher>();
        builder.Services.AddHostedService<BootstrapAdminKey>();
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions,
            ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        var authorization = builder.Services.AddAuthorizationBuilder();
        foreach (var role in Roles.All)
            authorization.AddPolicy(role, p => p.RequireAuthenticatedUser().RequireRole(Roles.AtLeast(role)));
        authorization.SetFallbackPolicy(
            new AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireRole(Roles.Admin).Build());
        return builder;
    }

    /// <summary>Tracks each authenticated request while it runs, so revoking its key ends it (see <see
    /// cref="OpenRequests"/>).</summary>
    public static IApplicationBuilder UseOpenRequestTracking(this IApplicationBuilder app)
    {
        var open = app.ApplicationServices.GetRequiredService<OpenRequests>();
        return app.Use((context, next) => open.TrackAsync(context, next));
    }
}
