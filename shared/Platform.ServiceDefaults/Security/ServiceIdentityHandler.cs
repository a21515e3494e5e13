using Microsoft.AspNetCore.Http;

namespace Platform.ServiceDefaults.Security;

/// <summary>
/// Signs a service's own calls to another service (e.g. Training asking Ingestion about a dataset) as the
/// service itself: a viewer whose key id is <see cref="Caller.ServiceKeyId"/>, which owns nothing; each signature is
/// for that one request to <paramref name="target"/>.
/// </summary>
public sealed class ServiceIdentityHandler(CallerSignature signature, ServiceName service, string target)
    : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
        CancellationToken cancellationToken)
    {
        request.Headers.Remove(CallerSignature.HeaderName);
        request.Headers.Add(CallerSignature.HeaderName,
            signature.Sign(service.AsCaller(), SignedRequest.For(request, target)));
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>The name of the running service, as it signs its own calls and as signatures for it name it.</summary>
public sealed record ServiceName(string Value)
{
    public Caller AsCaller() => new(Caller.ServiceKeyId, $"service:{Value}", Roles.Viewer);
}
