using Gateway.Access;
using Microsoft.Extensions.Options;

namespace Platform.Services.Tests;

public sealed class FailedAuthenticationsTests
{
    [Fact]
    public async Task An_address_that_spent_its_failures_is_exhausted_though_a_fraction_of_one_has_come_back()
    {
        using var failures = new FailedAuthentications(Options.Create(new RateLimitOptions
        {
            FailedAuthenticationsPerSecond = 1,
            FailedAuthenticationsBurst = 3,
        }));
        for (var i = 0; i < 3; i++)
        {
            Assert.False(failures.IsExhausted("10.0.0.1", out _), $"after {i} failures");
            failures.Record("10.0.0.1");
            // Spaced out, as requests are: the bucket refills continuously, a few hundredths of a token each time.
            await Task.Delay(40);
        }
        Assert.True(failures.IsExhausted("10.0.0.1", out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
        Assert.False(failures.IsExhausted("10.0.0.2", out _));
    }
}
