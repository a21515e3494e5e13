using Platform.ServiceDefaults.Messaging;

namespace Platform.Services.Tests;

/// <summary>An outbox row that fails is retried after doubling delays, then parked; an admin's retry makes it pending
/// again.</summary>
public class OutboxRowTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Failures_back_off_by_doubling_then_park_the_row_at_the_attempt_limit()
    {
        var row = new OutboxMessage { MessageType = "X", Body = "{}" };
        var first = TimeSpan.FromSeconds(2);
        row.RecordFailure("e1", maxAttempts: 4, first, T0);
        Assert.Equal(T0 + TimeSpan.FromSeconds(2), row.NextAttemptAt);
        row.RecordFailure("e2", 4, first, T0);
        Assert.Equal(T0 + TimeSpan.FromSeconds(4), row.NextAttemptAt);
        row.RecordFailure("e3", 4, first, T0);
        Assert.Equal(T0 + TimeSpan.FromSeconds(8), row.NextAttemptAt);
        Assert.False(row.IsParked);
        Assert.Equal(OutboxStates.Pending, OutboxStates.Of(row));

        row.RecordFailure(new string('x', 5000), 4, first, T0);
        Assert.True(row.IsParked);
        Assert.Equal(OutboxStates.Parked, OutboxStates.Of(row));
        Assert.Equal(4, row.Attempts);
        Assert.Equal(2000, row.LastError!.Length);

        row.Unpark();
        Assert.Equal((OutboxStates.Pending, 0, null), (OutboxStates.Of(row), row.Attempts, row.NextAttemptAt));
    }

    [Fact]
    public void The_cleanup_runs_every_minute_or_every_half_retention_when_that_is_shorter()
    {
        Assert.Equal(TimeSpan.FromMinutes(1), new OutboxOptions { RetentionHours = 24 }.CleanupInterval);
        Assert.Equal(TimeSpan.FromSeconds(18), new OutboxOptions { RetentionHours = 0.01 }.CleanupInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), new OutboxOptions { RetentionHours = 0 }.CleanupInterval);
    }
}
