using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;

namespace Platform.ServiceDefaults.Security;

/// <summary>
/// The gateway's routes (routes.json, embedded in this library): which service serves each path and method, and the
/// role each needs. One table for both sides: the gateway loads it into YARP, and each service enforces the roles of
/// its own routes (<see cref="RouteRoles"/>), so a signed caller cannot reach an endpoint its role may not use.
/// </summary>
public static class RouteTable
{
    public const string Section = "ReverseProxy:Routes";
    private const string Resource = "Platform.ServiceDefaults.Security.routes.json";

    /// <summary>Adds the table as the first configuration source: later ones (appsettings, environment) win.</summary>
    public static void AddRouteTable(this IConfigurationBuilder configuration)
    {
        using var stream = typeof(RouteTable).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"{Resource} is not embedded.");
        // Read once by the JSON provider into keys and values: an in-memory source can be rebuilt, a stream cannot.
        var values = new ConfigurationBuilder().AddJsonStream(stream).Build().AsEnumerable()
            .Where(pair => pair.Value is not null).ToList();
        configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = values });
    }
}

/// <summary>
/// The roles one service's routes need, read from the route table: the role a request needs is that of the first
/// route (by Order) of this service whose path and methods match it, and an admin's when none does. A route whose
/// path the gateway rewrites (PathSet) is matched by the path the service receives.
/// </summary>
public sealed class RouteRoles
{
    private sealed record Route(TemplateMatcher Matcher, HashSet<string>? Methods, string Role, int Order);

    private readonly List<Route> _routes;

    public RouteRoles(IConfiguration configuration, string service)
    {
        _routes = configuration.GetSection(RouteTable.Section).GetChildren()
            .Where(r => string.Equals(r["ClusterId"], service, StringComparison.OrdinalIgnoreCase))
            .Select(r =>
            {
                var path = r.GetSection("Transforms").GetChildren().Select(t => t["PathSet"])
                               .FirstOrDefault(p => p is not null)
                           ?? r["Match:Path"]
                           ?? throw new InvalidOperationException($"Route {r.Key} has no Match:Path.");
                var methods = r.GetSection("Match:Methods").GetChildren().Select(m => m.Value!).ToList();
                // A route that names no policy needs an admin, as at the gateway.
                var role = r["AuthorizationPolicy"] is { Length: > 0 } policy && Roles.IsKnown(policy)
                    ? policy
                    : Roles.Admin;
                return new Route(new TemplateMatcher(TemplateParser.Parse(path), new RouteValueDictionary()),
                    methods.Count == 0 ? null : new HashSet<string>(methods, StringComparer.OrdinalIgnoreCase),
                    role, int.TryParse(r["Order"], out var order) ? order : 0);
            })
            .OrderBy(r => r.Order)
            .ToList();
    }

    /// <summary>
    /// The role the request needs: its route's; a viewer's for the service's API document (which the gateway merges
    /// for any key); an admin's for anything else, as at the gateway (the outbox admin API, and whatever is added
    /// later without a route).
    /// </summary>
    public string RoleFor(string method, PathString path) =>
        _routes.FirstOrDefault(r => (r.Methods is null || r.Methods.Contains(method))
                                    && r.Matcher.TryMatch(path, new RouteValueDictionary()))?.Role
        ?? (HttpMethods.IsGet(method) && path == "/openapi/v1.json" ? Roles.Viewer : Roles.Admin);

    /// <summary>Whether <paramref name="role"/> is at least <paramref name="required"/>.</summary>
    public static bool Allows(string required, string role) => Roles.AtLeast(required).Contains(role);
}
