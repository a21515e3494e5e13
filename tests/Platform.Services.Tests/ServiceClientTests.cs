using Platform.ServiceDefaults.Http;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Platform.Services.Tests;

/// <summary>Which failures of a call to another service answer 503 (it did not answer) rather than escape as a
/// 500.</summary>
public class ServiceClientTests
{
    [Fact]
    public void An_unreachable_slow_or_circuit_broken_service_did_not_answer()
    {
        Assert.True(ServiceClientExtensions.IsUnanswered(new HttpRequestException("connection refused"),
            CancellationToken.None));
        Assert.True(ServiceClientExtensions.IsUnanswered(new TaskCanceledException(), CancellationToken.None));
        Assert.True(ServiceClientExtensions.IsUnanswered(new TimeoutRejectedException(), CancellationToken.None));
        Assert.True(ServiceClientExtensions.IsUnanswered(new BrokenCircuitException(), CancellationToken.None));
        Assert.True(ServiceClientExtensions.IsUnanswered(new System.Text.Json.JsonException(), CancellationToken.None));
    }

    [Fact]
    public void A_request_abandoned_by_its_own_client_or_a_bug_is_not_that()
    {
        using var aborted = new CancellationTokenSource();
        aborted.Cancel();
        Assert.False(ServiceClientExtensions.IsUnanswered(new TaskCanceledException(), aborted.Token));
        Assert.False(ServiceClientExtensions.IsUnanswered(new InvalidOperationException(), CancellationToken.None));
    }
}
