using System.Diagnostics;
using System.Text;
using Npgsql;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// The whole platform as real processes: the six services built by the solution, started on test ports
/// against a real PostgreSQL (database platform_test, schemas dropped first) and a real RabbitMQ (virtual
/// host platform-test), with a fresh artifact folder. Tests talk to the gateway only.
/// infra/test.sh starts PostgreSQL and RabbitMQ; PLATFORM_TEST_POSTGRES and PLATFORM_TEST_RABBITMQ override where they are.
/// </summary>
public sealed class PlatformStack : IAsyncLifetime
{
    private static readonly (string Name, int Port)[] Services =
    [
        ("Ingestion", 18081), ("Tokenization", 18082), ("Training", 18083), ("Evaluation", 18084), ("Generation", 18085), ("Gateway", 18080),
    ];
    private static readonly string[] Schemas = ["ingestion", "tokenization", "training", "evaluation", "generation"];

    // The services are run from the same build configuration as the tests: bin/<Configuration>/net10.0.
    private static readonly string Configuration =
        Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)))!;

    private readonly List<(string Name, Process Process, StringBuilder Log)> _processes = [];

    public static string RepoRoot { get; } = FindRepoRoot();
    public string PostgresConnection { get; } = Environment.GetEnvironmentVariable("PLATFORM_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=55432;Database=platform_test;Username=platform;Password=platform";
    public Uri RabbitMq { get; } = new(Environment.GetEnvironmentVariable("PLATFORM_TEST_RABBITMQ") ?? "amqp://guest:guest@127.0.0.1:5673/platform-test");
    public string ArtifactsRoot { get; } = Path.Combine(Path.GetTempPath(), "platform-e2e-" + Guid.NewGuid().ToString("N")[..8]);
    public HttpClient Gateway { get; } = new() { BaseAddress = new Uri("http://127.0.0.1:18080"), Timeout = TimeSpan.FromSeconds(60) };

    public async Task InitializeAsync()
    {
        await ResetDatabaseAsync();
        Directory.CreateDirectory(ArtifactsRoot);
        foreach (var (name, port) in Services)
            Start(name, port);
        await WaitUntilReadyAsync(TimeSpan.FromSeconds(150));
    }

    private async Task ResetDatabaseAsync()
    {
        await using var connection = new NpgsqlConnection(PostgresConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(string.Join(";", Schemas.Select(s => $"DROP SCHEMA IF EXISTS {s} CASCADE")), connection);
        await command.ExecuteNonQueryAsync();
    }

    private void Start(string name, int port)
    {
        var bin = Path.Combine(RepoRoot, "services", name, "bin", Configuration, "net10.0");
        var dll = Path.Combine(bin, name + ".dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"{dll} is missing: build the solution ({Configuration}) before running the end-to-end tests.");
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = bin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var env = start.Environment;
        env["ConnectionStrings__Platform"] = PostgresConnection;
        env["ConnectionStrings__RabbitMq"] = RabbitMq.ToString();
        env["Artifacts__Root"] = ArtifactsRoot;
        env["Services__Ingestion"] = "http://127.0.0.1:18081";
        env["Training__LogInterval"] = "10";
        env["Evaluation__SampleTokens"] = "50";
        // One decoding slot and one queue place, so the tests can see the 429 that protects the service.
        env["Generation__MaxConcurrentGenerations"] = "1";
        env["Generation__MaxQueuedGenerations"] = "1";
        foreach (var (cluster, clusterPort) in new[] { ("ingestion", 18081), ("tokenization", 18082), ("training", 18083), ("evaluation", 18084), ("generation", 18085) })
            env[$"ReverseProxy__Clusters__{cluster}__Destinations__primary__Address"] = $"http://127.0.0.1:{clusterPort}";

        var process = new Process { StartInfo = start };
        var log = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add((name, process, log));
    }

    /// <summary>Kills a service the hard way (as a crash would) and starts it again.</summary>
    public async Task CrashAndRestartAsync(string name)
    {
        var index = _processes.FindIndex(p => p.Name == name);
        var (_, process, _) = _processes[index];
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        _processes.RemoveAt(index);
        Start(name, Services.Single(s => s.Name == name).Port);
        await WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_processes.FirstOrDefault(p => p.Process.HasExited) is { Process: not null } dead)
                throw new InvalidOperationException($"{dead.Name} exited with code {dead.Process.ExitCode}:\n{Tail(dead.Log)}");
            try
            {
                using var response = await Gateway.GetAsync("/health/ready");
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(500);
        }
        throw new TimeoutException("The platform did not become ready:\n" + Logs());
    }

    /// <summary>The last lines each service wrote, to explain a failed assertion.</summary>
    public string Logs() => string.Join("\n", _processes.Select(p => $"--- {p.Name} ---\n{Tail(p.Log)}"));

    private static string Tail(StringBuilder log)
    {
        lock (log)
            return string.Join("\n", log.ToString().Split('\n').TakeLast(40));
    }

    public async Task DisposeAsync()
    {
        foreach (var (_, process, _) in _processes)
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
        }
        Gateway.Dispose();
        try { Directory.Delete(ArtifactsRoot, recursive: true); } catch (IOException) { }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException("Platform.sln not found above the test assembly.");
    }
}

[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<PlatformStack>
{
    public const string Name = "platform";
}
