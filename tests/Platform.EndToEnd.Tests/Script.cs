using System.Diagnostics;
using System.Text;

namespace Platform.EndToEnd.Tests;

/// <summary>Runs a program the tests drive as its user would: one of the repository's bash scripts from the checkout's
/// root, as its docs say to, or a tool such as promtool or python3.</summary>
public static class Script
{
    /// <summary>The script's exit code and output; <paramref name="environment"/> is added to the test's
    /// own.</summary>
    public static Task<(int Exit, string Out, string Err)> RunAsync(string path,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        RunProgramAsync("bash", [Path.Combine(PlatformStack.RepoRoot, path)], environment, timeout);

    /// <summary>A program's exit code and output, run in <paramref name="workingDirectory"/> (default: the checkout's
    /// root); <paramref name="environment"/> is added to the test's own.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunProgramAsync(string program,
        IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = workingDirectory ?? PlatformStack.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using (var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(4)))
            await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await output, await error);
    }
}
