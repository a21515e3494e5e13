using System.Reflection;
using MassTransit;

namespace Platform.ServiceDefaults.Reliability;

/// <summary>What a <see cref="Fault{T}"/> tells a consumer of it: whose consumer gave up, and why, in words for the
/// user.</summary>
public static class FaultReasons
{
    private static readonly string? ThisService = Assembly.GetEntryAssembly()?.GetName().Name;

    /// <summary>
    /// True when one of this service's own consumers faulted. Fault&lt;T&gt; is published to every subscriber, and
    /// another service consuming the same message (Training also consumes DatasetIngested) may be the one that failed.
    /// </summary>
    public static bool IsFromThisService<T>(this Fault<T> fault) =>
        string.Equals(fault.Host?.Assembly, ThisService, StringComparison.Ordinal);

    /// <summary>"what failed after its retries (IOException: no space left on device)": the first exception,
    /// typed.</summary>
    public static string Reason<T>(this Fault<T> fault, string what)
    {
        var first = fault.Exceptions?.FirstOrDefault();
        if (first is null)
            return $"{what} failed after its retries";
        var type = first.ExceptionType?.Split('.').Last() ?? "Exception";
        return $"{what} failed after its retries ({type}: {PublicReason.Scrub(first.Message ?? "")})";
    }
}
