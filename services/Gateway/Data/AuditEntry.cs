namespace Gateway.Data;

/// <summary>
/// One write through the gateway: who (key), what (method, path, the resource it created), when, and the outcome
/// (status). Rows are only ever added: the table refuses UPDATE and DELETE (a trigger), so not even an admin with
/// the database's password can rewrite history through the platform's own account without dropping the trigger.
/// </summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public Guid KeyId { get; set; }
    public string KeyName { get; set; } = "";
    public string Role { get; set; } = "";
    public string Method { get; set; } = "";
    public string Path { get; set; } = "";
    public int Status { get; set; }
    /// <summary>Location of what the request created, when it answered with one (e.g. /api/datasets/{id}).</summary>
    public string? Location { get; set; }
    public long DurationMilliseconds { get; set; }
    /// <summary>What the service said the write did beyond its status (e.g. everything a cascade deleted, of
    /// whom).</summary>
    public string? Detail { get; set; }
    public string? RemoteAddress { get; set; }
}
