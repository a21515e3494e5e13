using System.Text.RegularExpressions;

namespace Platform.ServiceDefaults.Reliability;

/// <summary>
/// An exception's message as a failure reason shown to any key that may read the failed thing: where files lie on
/// the server (artifact root, staging, temporary folders) is left out, and a missing file is said in words. The log
/// keeps the whole exception.
/// </summary>
public static partial class PublicReason
{
    public static string Of(Exception exception) => exception switch
    {
        FileNotFoundException or DirectoryNotFoundException => "a stored file is missing",
        _ => Scrub(exception.Message),
    };

    public static string Scrub(string message) => AbsolutePath().Replace(message, "[file]");

    // Two or more absolute path segments, as a message quotes a file ('/data/artifacts/runs/…/latest.ckpt').
    [GeneratedRegex(@"(?<![\w.:/])(/[\w.@+-]+){2,}/?")]
    private static partial Regex AbsolutePath();
}
