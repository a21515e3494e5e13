using System.Diagnostics;

namespace Platform.EndToEnd.Tests;

/// <summary>rabbitmqctl against the test broker (infra/test.sh exports the node's environment), for what AMQP cannot ask.</summary>
public static class Broker
{
    private const string Ctl = "/usr/lib/rabbitmq/bin/rabbitmqctl";
    private static readonly string VirtualHost = new Uri(Environment.GetEnvironmentVariable("PLATFORM_TEST_RABBITMQ") ?? "amqp://guest:guest@127.0.0.1:5673/platform-test")
        .AbsolutePath.TrimStart('/');

    public static string Eval(string expression) => Run("-q", "eval", expression);

    /// <summary>Deliveries of the queue that a consumer holds without having acknowledged them.</summary>
    public static int Unacknowledged(string queue)
    {
        var lines = Run("-q", "list_queues", "-p", VirtualHost, "name", "messages_unacknowledged", "--no-table-headers").Split('\n');
        var row = lines.Select(l => l.Split('\t', StringSplitOptions.TrimEntries)).FirstOrDefault(c => c.Length == 2 && c[0] == queue)
            ?? throw new InvalidOperationException($"queue {queue} not found in: {string.Join(" | ", lines)}");
        return int.Parse(row[1]);
    }

    public static string Run(params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(Ctl, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} exited with {process.ExitCode}: {error}");
        return output;
    }
}
