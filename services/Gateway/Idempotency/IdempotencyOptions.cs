namespace Gateway.Idempotency;

/// <summary>Section "Idempotency": which POST routes honour an Idempotency-Key, and how long a first response is kept.</summary>
public sealed class IdempotencyOptions
{
    public List<string> Paths { get; set; } = ["/api/runs", "/api/sweeps", "/api/datasets", "/api/evaluations", "/api/models/import"];
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);
    /// <summary>Responses larger than this are passed through but not kept (the record is dropped, so a retry runs again).</summary>
    public int MaxBodyBytes { get; set; } = 1 << 20;
}
