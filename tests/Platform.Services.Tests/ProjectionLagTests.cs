using System.Diagnostics;
using Platform.ServiceDefaults.Persistence;

namespace Platform.Services.Tests;

public class ProjectionLagTests
{
    [Fact]
    public async Task A_lookup_that_finds_nothing_is_retried_until_the_event_lands()
    {
        var calls = 0;
        var found = await ProjectionLag.SettleAsync(_ => Task.FromResult(++calls < 3 ? null : "v1"),
            CancellationToken.None, TimeSpan.FromSeconds(30));
        Assert.Equal("v1", found);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task A_name_that_never_appears_is_not_found_once_the_allowance_has_passed()
    {
        var clock = Stopwatch.StartNew();
        var calls = 0;
        var found = await ProjectionLag.SettleAsync(_ => { calls++; return Task.FromResult<string?>(null); },
            CancellationToken.None, TimeSpan.FromMilliseconds(350));
        Assert.Null(found);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(350), $"gave up after {clock.Elapsed}");
        // One try at once, then one every 100 ms: four or five, never a busy loop.
        Assert.InRange(calls, 2, 6);
    }

    [Fact]
    public async Task A_caller_who_goes_away_stops_the_wait()
    {
        using var gone = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ProjectionLag.SettleAsync(
            _ => Task.FromResult<string?>(null), gone.Token, TimeSpan.FromSeconds(30)));
    }
}
