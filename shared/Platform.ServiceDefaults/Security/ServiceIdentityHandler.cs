namespace Platform.ServiceDefaults.Security;

/// <summary>
/// Signs a service's own calls to another service (e.g. Training asking Ingestion about a dataset) as the
/// service itself: a viewer whose key id is <see cref="Caller.ServiceKeyId"/>, which owns nothing.
/// </summary>
public sealed class ServiceIdentityHandler(CallerSignature signature, ServiceName service) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Remove(CallerSignature.HeaderName);
        request.Headers.Add(CallerSignature.HeaderName, signature.Sign(new Caller(Caller.ServiceKeyId, $"service:{service.Value}", Roles.Viewer)));
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>The name of the running service, as it signs its own calls.</summary>
public sealed record ServiceName(string Value);
