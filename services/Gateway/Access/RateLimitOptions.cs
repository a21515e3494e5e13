namespace Gateway.Access;

/// <summary>Per-key limits (Gateway:RateLimits); a key may carry its own, set when it is created.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Requests per second a key may make, on average.</summary>
    public int RequestsPerSecond { get; set; } = 50;
    /// <summary>How many requests beyond the average a key may make at once (a token bucket of this size).</summary>
    public int Burst { get; set; } = 100;
    /// <summary>Generations (/api/generate, /v1/completions, /v1/chat/completions, /v1/embeddings) one key may run at
    /// the same time.</summary>
    public int ConcurrentGenerations { get; set; } = 4;
    /// <summary>Requests per second from one address without a valid key (they are all refused; this bounds the
    /// work).</summary>
    public int AnonymousRequestsPerSecond { get; set; } = 10;
    public int AnonymousBurst { get; set; } = 50;
    /// <summary>
    /// Unknown or revoked keys one address may present per second, on average, before its next presented key is
    /// refused (429) without being looked up: guessing keys costs the database nothing past this.
    /// </summary>
    public int FailedAuthenticationsPerSecond { get; set; } = 10;
    public int FailedAuthenticationsBurst { get; set; } = 100;
    /// <summary>
    /// How long a gateway replica keeps a key it looked up before asking the database again: a key revoked on another
    /// replica is refused here within this time (at once on the replica that revoked it).
    /// </summary>
    public int KeyCacheSeconds { get; set; } = 5;
}
