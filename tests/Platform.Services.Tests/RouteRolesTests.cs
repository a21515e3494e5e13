using Microsoft.Extensions.Configuration;
using Platform.ServiceDefaults.Security;

namespace Platform.Services.Tests;

public sealed class RouteRolesTests
{
    private static RouteRoles For(string service)
    {
        var configuration = new ConfigurationBuilder();
        configuration.AddRouteTable();
        return new RouteRoles(configuration.Build(), service);
    }

    [Theory]
    [InlineData("training", "GET", "/api/runs", Roles.Viewer)]
    [InlineData("training", "GET", "/api/runs/0b7f/metrics", Roles.Viewer)]
    [InlineData("training", "POST", "/api/runs", Roles.Editor)]
    [InlineData("training", "DELETE", "/api/runs/0b7f", Roles.Editor)]
    [InlineData("training", "POST", "/api/runs/estimate", Roles.Viewer)]   // changes nothing: a viewer may ask
    [InlineData("training", "POST", "/api/models/import", Roles.Editor)]
    [InlineData("training", "PUT", "/api/models/m/sharing", Roles.Editor)]
    [InlineData("training", "GET", "/metrics", Roles.Viewer)]              // the gateway's /metrics/training, rewritten
    [InlineData("training", "GET", "/openapi/v1.json", Roles.Viewer)]      // merged by the gateway for any key
    [InlineData("training", "GET", "/api/datasets", Roles.Admin)]          // no route of this service: closed
    [InlineData("training", "GET", "/outbox", Roles.Admin)]
    [InlineData("tokenization", "POST", "/api/tokenizers/5/encode", Roles.Viewer)]
    [InlineData("tokenization", "POST", "/api/tokenizers", Roles.Admin)]
    [InlineData("generation", "POST", "/v1/completions", Roles.Viewer)]
    [InlineData("generation", "POST", "/v1/embeddings", Roles.Viewer)]
    [InlineData("generation", "POST", "/v1/chat/completions", Roles.Viewer)]
    [InlineData("ingestion", "DELETE", "/api/datasets/5", Roles.Editor)]
    public void A_request_needs_the_role_of_the_first_route_of_its_service_that_matches(string service, string method,
        string path, string role) => Assert.Equal(role, For(service).RoleFor(method, path));

    [Fact]
    public void A_role_allows_what_the_weaker_roles_may()
    {
        Assert.True(RouteRoles.Allows(Roles.Viewer, Roles.Editor));
        Assert.True(RouteRoles.Allows(Roles.Editor, Roles.Admin));
        Assert.False(RouteRoles.Allows(Roles.Editor, Roles.Viewer));
        Assert.False(RouteRoles.Allows(Roles.Admin, Roles.Editor));
    }
}
