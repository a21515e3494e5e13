using System.Diagnostics;
using System.Text;

namespace Platform.EndToEnd.Tests;

/// <summary>The `platform` command line, built as docs/dashboard-and-cli.md builds it, run as a process against the
/// running stack.</summary>
public static class CliProcess
{
    public static string Path => System.IO.Path.Combine(PlatformStack.RepoRoot, "tools", "Platform.Cli", "bin",
        PlatformStack.Configuration, "net10.0", "platform.dll");

    /// <summary>Runs the CLI with only what it is given: the address, a configuration folder, and a key when one is
    /// passed (else its login file).</summary>
    public static async Task<(int Exit, string Out, string Err)> RunAsync(string home, string? key, string? stdin,
        params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Path, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.Environment["XDG_CONFIG_HOME"] = home;
        start.Environment["PLATFORM_URL"] = PlatformStack.GatewayAddress.ToString();
        start.Environment.Remove("PLATFORM_API_KEY");
        if (key is not null)
            start.Environment["PLATFORM_API_KEY"] = key;
        using var process = Process.Start(start)!;
        if (stdin is not null)
            await process.StandardInput.WriteLineAsync(stdin);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
