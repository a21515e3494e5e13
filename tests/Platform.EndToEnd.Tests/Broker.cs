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
        var rows = Queues("messages_unacknowledged");
        var row = rows.FirstOrDefault(c => c[0] == queue) ?? throw new InvalidOperationException(
            $"queue {queue} not found in: {string.Join(" | ", rows.Select(c => string.Join(' ', c)))}");
        return int.Parse(row[1]);
    }

    /// <summary>
    /// Messages of the platform's queues not yet consumed to the end: ready, or delivered and not acknowledged (a
    /// consumer acknowledges once it has finished). Error and skipped queues, which keep what failed, are left out.
    /// </summary>
    public static int Outstanding() => Queues("messages_ready", "messages_unacknowledged")
        .Where(c => !c[0].EndsWith("_error") && !c[0].EndsWith("_skipped"))
        .Sum(c => int.Parse(c[1]) + int.Parse(c[2]));

    /// <summary>Each queue of the test vhost: its name, then the <paramref name="columns"/> asked for.</summary>
    private static List<string[]> Queues(params string[] columns) =>
        Run(["-q", "list_queues", "-p", VirtualHost, "name", .. columns, "--no-table-headers"])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t', StringSplitOptions.TrimEntries))
            .Where(c => c.Length == columns.Length + 1).ToList();

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
