namespace Gateway.Idempotency;

/// <summary>Section "Idempotency": which POST routes honour an Idempotency-Key, and how long a first response is
/// kept.</summary>
public sealed class IdempotencyOptions
{
    public List<string> Paths { get; set; } = ["/api/runs", "/api/sweeps", "/api/datasets", "/api/evaluations",
        "/api/models/import"];
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);
    /// <summary>
    /// How long a first request may stay unanswered before a retry takes its key over: longer than any forwarded
    /// request lasts (the slowest clusters time out after 10 minutes), so only a gateway that died mid-request leaves
    /// one this old.
    /// </summary>
    public TimeSpan InFlightTimeout { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>Responses larger than this are passed through but not kept (the record is dropped, so a retry runs
    /// again).</summary>
    public int MaxBodyBytes { get; set; } = 1 << 20;
}
