using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.ServiceDefaults.Reliability;

/// <summary>Throws (or dies) where a configured <see cref="FaultRule"/> says so; does nothing when no rule is
/// configured.</summary>
public sealed class FaultInjector(IOptions<FaultInjectionOptions> options, ILogger<FaultInjector> logger)
{
    public bool Enabled => options.Value.Rules.Count > 0;

    public void At(string point, string subject)
    {
        foreach (var rule in options.Value.Rules)
        {
            if (!string.Equals(rule.Point, point, StringComparison.OrdinalIgnoreCase) || rule.Match.Length == 0
                || !subject.Contains(rule.Match, StringComparison.Ordinal))
                continue;
            logger.LogWarning("Injecting a {Kind} fault at {Point}", rule.Kind, point);
            throw rule.Kind.ToLowerInvariant() switch
            {
                "io" => new IOException($"Injected I/O fault at {point}: no space left on device"),
                // As Npgsql reports a reset connection: transient, with the socket's error inside.
                "database" => new NpgsqlException($"Injected database fault at {point}: connection reset by peer",
                    new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset)),
                "kill" => Kill(),
                _ => new InjectedFaultException($"Injected fault at {point}"),
            };
        }
    }

    private static Exception Kill()
    {
        Process.GetCurrentProcess().Kill();
        return new InvalidOperationException("unreachable: the process was killed");
    }
}

/// <summary>An exception of a type no code expects, standing for any bug.</summary>
public sealed class InjectedFaultException(string message) : Exception(message);
