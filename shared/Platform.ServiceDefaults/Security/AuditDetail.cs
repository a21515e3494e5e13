using Microsoft.AspNetCore.Http;

namespace Platform.ServiceDefaults.Security;

/// <summary>
/// What a service tells the gateway's audit log about a write beyond its method, path and status (what a cascade
/// deleted, of whom): a response header the gateway records with the entry and removes before the client sees it.
/// </summary>
public static class AuditDetail
{
    public const string Header = "X-Platform-Audit-Detail";
    public const int MaxLength = 8000;

    public static void Set(HttpResponse response, string detail) =>
        response.Headers[Header] = detail.Length <= MaxLength ? detail : detail[..(MaxLength - 1)] + "…";
}
