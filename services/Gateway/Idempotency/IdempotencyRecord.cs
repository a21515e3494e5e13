namespace Gateway.Idempotency;

/// <summary>
/// The first response to a request carrying an Idempotency-Key, per API key: replayed to a retry with the same key,
/// method, path and body. A record without a status is a request still in flight.
/// </summary>
public sealed class IdempotencyRecord
{
    public Guid KeyId { get; private set; }
    public string IdempotencyKey { get; private set; } = "";
    public string Method { get; private set; } = "";
    public string Path { get; private set; } = "";
    /// <summary>SHA-256 of the request body (hex), or null until the first request's body has been read
    /// through.</summary>
    public string? RequestSha256 { get; private set; }
    public int? Status { get; private set; }
    public string? ContentType { get; private set; }
    public string? Location { get; private set; }
    public byte[]? Body { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    public static IdempotencyRecord Start(Guid keyId, string idempotencyKey, string method, string path,
        DateTimeOffset at) =>
        new() { KeyId = keyId, IdempotencyKey = idempotencyKey, Method = method, Path = path, CreatedAt = at };

    public bool IsComplete => Status is not null;

    public void Complete(string requestSha256, int status, string? contentType, string? location, byte[] body)
    {
        RequestSha256 = requestSha256;
        Status = status;
        ContentType = contentType;
        Location = location;
        Body = body;
    }
}
