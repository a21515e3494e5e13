namespace Platform.ServiceDefaults.Messaging;

/// <summary>The outbox dispatcher (section "Outbox").</summary>
public sealed class OutboxOptions
{
    public const string Section = "Outbox";

    /// <summary>Dispatched rows are deleted after this many hours (they are kept a while to explain what was
    /// sent).</summary>
    public double RetentionHours { get; set; } = 24;
    /// <summary>A row that fails this many times (type not loadable, body not readable) is parked for an
    /// admin.</summary>
    public int MaxAttempts { get; set; } = 5;
    /// <summary>Delay before a failed row's second attempt; it doubles with each further attempt.</summary>
    public double FirstRetrySeconds { get; set; } = 2;
    /// <summary>
    /// How long one publish may wait for the broker to take a message. A publish in flight when the broker stops can
    /// otherwise wait minutes for a confirmation that never comes, holding every row behind it; past this the batch
    /// stops and the row is sent again (consumers are idempotent, so a message that did arrive costs nothing).
    /// </summary>
    public double PublishTimeoutSeconds { get; set; } = 10;

    public TimeSpan Retention => TimeSpan.FromHours(RetentionHours);
    /// <summary>Expired rows are looked for every minute, or every half retention window when that is
    /// shorter.</summary>
    public TimeSpan CleanupInterval =>
        TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, Math.Min(TimeSpan.TicksPerMinute, Retention.Ticks / 2)));
    public TimeSpan FirstRetry => TimeSpan.FromSeconds(FirstRetrySeconds);
    public TimeSpan PublishTimeout => TimeSpan.FromSeconds(PublishTimeoutSeconds);
}
