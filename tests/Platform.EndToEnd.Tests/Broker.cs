using System.Diagnostics;

namespace Platform.EndToEnd.Tests;

/// <summary>rabbitmqctl against the test broker (infra/test.sh exports the node's environment), for what AMQP cannot
/// ask.</summary>
public static class Broker
{
    private const string Ctl = "/usr/lib/rabbitmq/bin/rabbitmqctl";
    private static readonly string VirtualHost = new Uri(Environment.GetEnvironmentVariable("PLATFORM_TEST_RABBITMQ")
        ?? "amqp://guest:guest@127.0.0.1:5673/platform-test")
        .AbsolutePath.TrimStart('/');

    public static string Eval(string expression) => Run("-q", "eval", expression);

    /// <summary>Deliveries of the queue that a consumer holds without having acknowledged them.</summary>
    public static int Unacknowledged(string queue)
    {
        var lines = Run("-q", "list_queues", "-p", VirtualHost, "name", "messages_unacknowledged",
            "--no-table-headers").Split('\n');
        var row = lines.Select(l => l.Split('\t', StringSplitOptions.TrimEntries)).FirstOrDefault(c => c.Length == 2
            && c[0] == queue)
            ?? throw new InvalidOperationException($"queue {queue} not found in: {string.Join(" | ", lines)}");
        return int.Parse(row[1]);
    }

    /// <summary>
    /// Messages of the platform's queues not yet consumed to the end: ready, or delivered and not acknowledged (a
    /// consumer acknowledges once it has finished). Error and skipped queues, which keep what failed, are left out.
    /// </summary>
    public static int Outstanding()
    {
        var lines = Run("-q", "list_queues", "-p", VirtualHost, "name", "messages_ready", "messages_unacknowledged",
            "--no-table-headers").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Select(l => l.Split('\t', StringSplitOptions.TrimEntries))
            .Where(c => c.Length == 3 && !c[0].EndsWith("_error") && !c[0].EndsWith("_skipped"))
            .Sum(c => int.Parse(c[1]) + int.Parse(c[2]));
    }

    public static string Run(params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(Ctl, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true
        })!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} exited with " +
                $"{process.ExitCode}: {error}");
        return output;
    }
}
