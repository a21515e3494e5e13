namespace Platform.Cli;

/// <summary>What scripts can rely on: the exit code says what kind of failure it was.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Something unexpected (a bug, or an answer the CLI does not understand).</summary>
    public const int Failed = 1;
    /// <summary>The command line itself is wrong (System.CommandLine's own parse errors also end with this).</summary>
    public const int Usage = 2;
    /// <summary>No key, or the key was refused (401) or may not do this (403).</summary>
    public const int Refused = 3;
    /// <summary>What was named does not exist (404).</summary>
    public const int NotFound = 4;
    /// <summary>The platform refused the request as invalid or conflicting (400, 409, 413, 422).</summary>
    public const int Invalid = 5;
    /// <summary>The platform could not be reached or did not answer (network errors, 429, 5xx).</summary>
    public const int Unavailable = 6;
    /// <summary>`runs watch`: the run ended Failed or Cancelled; `sweeps watch`: the sweep did.</summary>
    public const int RunDidNotComplete = 7;

    public static int ForStatus(int status) => status switch
    {
        401 or 403 => Refused,
        404 => NotFound,
        400 or 409 or 413 or 415 or 422 => Invalid,
        _ => Unavailable,
    };
}
