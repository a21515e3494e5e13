using System.Net;
using Gateway.Proxy;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Yarp.ReverseProxy.Configuration;

namespace Platform.Services.Tests;

public sealed class BackendsHealthCheckTests
{
    /// <summary>Answers every request 200 and counts them.</summary>
    private sealed class CountingHandler : HttpMessageHandler
    {
        public int Requests;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
            CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Requests);
            await Task.Delay(50, cancellationToken);
            return new HttpResponseMessage(HttpStatusCode.OK);
        }
    }

    private sealed class Clients(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
    }

    [Fact]
    public async Task Probes_arriving_together_share_one_round_of_requests_to_the_services()
    {
        var proxy = new InMemoryConfigProvider([],
        [
            new ClusterConfig { ClusterId = "a", Destinations = new Dictionary<string, DestinationConfig>
                { ["one"] = new() { Address = "http://127.0.0.1:1" } } },
            new ClusterConfig { ClusterId = "b", Destinations = new Dictionary<string, DestinationConfig>
                { ["one"] = new() { Address = "http://127.0.0.1:2" } } },
        ]);
        var handler = new CountingHandler();
        var check = new BackendsHealthCheck(proxy, new Clients(handler), TimeProvider.System);

        var results = await Task.WhenAll(
            Enumerable.Range(0, 50).Select(_ => check.CheckHealthAsync(new HealthCheckContext())));
        Assert.All(results, r => Assert.Equal(HealthStatus.Healthy, r.Status));
        Assert.Equal(2, handler.Requests); // one per destination, not 100

        await Task.Delay(BackendsHealthCheck.Freshness + TimeSpan.FromMilliseconds(100));
        await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(4, handler.Requests); // stale: asked again
    }
}
