using System.Diagnostics;
using System.Text;

namespace Platform.EndToEnd.Tests;

/// <summary>Runs one of the repository's bash scripts from the checkout's root, as its docs say to.</summary>
public static class Script
{
    /// <summary>Its exit code and output; <paramref name="environment"/> is added to the test's own.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunAsync(string path,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(PlatformStack.RepoRoot, path)])
        {
            WorkingDirectory = PlatformStack.RepoRoot,
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
