using System.Diagnostics;
using System.Text;
using Npgsql;
using Platform.Tests.Shared;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// The whole platform as real processes: the six services built by the solution, started on test ports the way
/// their images start them (configuration from the environment only, ASPNETCORE_URLS included, no --urls)
/// against a real PostgreSQL (database platform_test, schemas dropped first) and a real RabbitMQ (virtual
/// host platform-test), with the artifacts in an S3 bucket (s3rver, see <see cref="S3Server"/>). The six services share
/// one cache folder of it (<see cref="ArtifactsRoot"/>), so tests can look at the files as the services see them; a
/// second instance of a service has a folder of its own and so fetches from the bucket whatever another process wrote,
/// as a replica on another machine does. Tests talk to the gateway, with the admin key
/// (PLATFORM_ADMIN_KEY, as infra/test.sh exports it from .data/admin-key) unless they say otherwise.
/// infra/test.sh starts PostgreSQL and RabbitMQ; PLATFORM_TEST_POSTGRES and PLATFORM_TEST_RABBITMQ override where they
/// are.
/// </summary>
public sealed class PlatformStack : IAsyncLifetime
{
    public static readonly (string Name, int Port)[] Services =
    [
        ("Ingestion", 18081), ("Tokenization", 18082), ("Training", 18083), ("Evaluation", 18084),
            ("Generation", 18085), ("Gateway", 18080),
    ];
    private static readonly string[] Schemas = ["gateway", "ingestion", "tokenization", "training", "registry",
        "evaluation", "generation"];
    /// <summary>The service started with Logging:Format=json; the others log text.</summary>
    public const string JsonLoggingService = "Ingestion";

    public static readonly Uri GatewayAddress = new("http://127.0.0.1:18080");

    // The services are run from the same build configuration as the tests: bin/<Configuration>/net10.0.
    public static readonly string Configuration =
        Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)))!;

    /// <summary>Fault rules per service (see FaultInjectionOptions): datasets, runs and models named so fail on
    /// purpose.</summary>
    private static readonly Dictionary<string, (string Point, string Match, string Kind)[]> FaultRules = new()
    {
        ["Tokenization"] = [("DatasetIngested", FaultNames.Io, "io"),
            ("DatasetIngested", FaultNames.Database, "database"), ("DatasetIngested", FaultNames.Unknown, "unknown")],
        ["Evaluation"] = [("TrainingCompleted", FaultNames.Evaluation, "unknown")],
        ["Training"] = [("training-step", FaultNames.CrashLoop, "kill"),
        ("TrainingCompleted", FaultNames.Registration, "database")],
        ["Ingestion"] = [("dataset-save", FaultNames.UploadSave, "database")],
    };

    /// <summary>The S3-compatible server holding the artifacts.</summary>
    public S3Server Bucket { get; } = new();

    /// <summary>Receives the services' traces over OTLP/HTTP, as any collector would.</summary>
    public OtlpReceiver Traces { get; } = new(18090);

    private readonly List<(string Name, Process Process, StringBuilder Log)> _processes = [];
    private readonly List<string> _exited = [];

    public static string RepoRoot => Platform.Tests.Shared.RepoRoot.Path;
    public string PostgresConnection { get; } = Environment.GetEnvironmentVariable("PLATFORM_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=55432;Database=platform_test;Username=platform;Password=platform";
    public Uri RabbitMq { get; } = new(Environment.GetEnvironmentVariable("PLATFORM_TEST_RABBITMQ")
        ?? "amqp://guest:guest@127.0.0.1:5673/platform-test");
    public string ArtifactsRoot { get; } = Path.Combine(Path.GetTempPath(), "platform-e2e-"
        + Guid.NewGuid().ToString("N")[..8]);
    public string AdminKey { get; } = Secret("PLATFORM_ADMIN_KEY", "admin-key", "plk_e2e_");
    public string InternalSecret { get; } = Secret("PLATFORM_INTERNAL_SECRET", "internal-secret", "e2e-internal-");
    /// <summary>The gateway with the admin key.</summary>
    public HttpClient Gateway { get; }
    /// <summary>The gateway without any key.</summary>
    public HttpClient Anonymous { get; } = new() { BaseAddress = GatewayAddress, Timeout = TimeSpan.FromSeconds(60) };

    public PlatformStack() => Gateway = ClientWithKey(AdminKey);

    /// <summary>A client of the gateway that sends this key as "Authorization: Bearer".</summary>
    public static HttpClient ClientWithKey(string key)
    {
        var client = new HttpClient { BaseAddress = GatewayAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
            key);
        return client;
    }

    public static Uri ServiceAddress(string name) =>
        new($"http://127.0.0.1:{Services.Single(s => s.Name == name).Port}");

    // As infra/test.sh exports it, else the stack's own (from .data when a developer runs dotnet test by hand, else
    // random).
    private static string Secret(string variable, string file, string prefix)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
            return value;
        var path = Path.Combine(RepoRoot, ".data", file);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : prefix
            + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
    }

    public async Task InitializeAsync()
    {
        await ResetDatabaseAsync();
        Directory.CreateDirectory(ArtifactsRoot);
        await Bucket.InitializeAsync();
        Traces.Start();
        foreach (var (name, port) in Services)
            Start(name, port);
        await WaitUntilReadyAsync(TimeSpan.FromSeconds(150));
    }

    private async Task ResetDatabaseAsync()
    {
        await using var connection = new NpgsqlConnection(PostgresConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(string.Join(";",
            Schemas.Select(s => $"DROP SCHEMA IF EXISTS {s} CASCADE")), connection);
        await command.ExecuteNonQueryAsync();
    }

    private void Start(string name, int port, string? instance = null, IReadOnlyDictionary<string,
        string>? settings = null)
    {
        var bin = Path.Combine(RepoRoot, "services", name, "bin", Configuration, "net10.0");
        var dll = Path.Combine(bin, name + ".dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"{dll} is missing: build the solution ({Configuration}) before running " +
                $"the end-to-end tests.");
        // As the image does: "dotnet <Service>.dll" in its folder, everything else from the environment.
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = bin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var env = start.Environment;
        foreach (var inherited in env.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)
            || k.StartsWith("ReverseProxy__", StringComparison.Ordinal)).ToList())
            env.Remove(inherited);
        env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        env["PLATFORM_INTERNAL_SECRET"] = InternalSecret;
        env["PLATFORM_ADMIN_KEY"] = AdminKey;
        env["ConnectionStrings__Platform"] = PostgresConnection;
        env["ConnectionStrings__RabbitMq"] = RabbitMq.ToString();
        foreach (var (key, value) in Bucket.ServiceSettings())
            env[key] = value;
        env["Artifacts__Root"] = instance is null ? ArtifactsRoot : ArtifactsRoot + "-" + instance;
        env["Services__Ingestion"] = ServiceAddress("Ingestion").ToString();
        env["Services__Training"] = ServiceAddress("Training").ToString();
        // The tests drive the platform hard with the one admin key; the rate-limit test uses keys with their own
        // limits.
        env["Gateway__RateLimits__RequestsPerSecond"] = "10000";
        env["Gateway__RateLimits__Burst"] = "10000";
        env["Gateway__RateLimits__ConcurrentGenerations"] = "64";
        env["Gateway__RateLimits__AnonymousRequestsPerSecond"] = "10000";
        env["Gateway__RateLimits__AnonymousBurst"] = "10000";
        env["Training__LogInterval"] = "10";
        env["Evaluation__SampleTokens"] = "50";
        // Few decoding slots (one per encoder-decoder, two sequences per GPT batch, enough for n = 2) and one queue
        // place, so the tests can see the 429 that protects the service.
        env["Generation__MaxConcurrentGenerations"] = "1";
        env["Generation__MaxQueuedGenerations"] = "1";
        env["Generation__MaxBatchSequences"] = "2";
        // Short leases and polls so the tests see a dead worker's run taken over in seconds; quick outbox retries.
        env["Training__LeaseSeconds"] = "6";
        env["Training__PollSeconds"] = "1";
        env["Training__MaxCrashes"] = "3";
        env["Outbox__FirstRetrySeconds"] = "0.2";
        env["Outbox__MaxAttempts"] = "3";
        env["Outbox__RetentionHours"] = "0.01";
        if (instance is not null)
            env["Training__WorkerId"] = instance;
        // One service logs as a log store would take it (LogTests reads its JSON and its trace ids).
        if (name == JsonLoggingService)
            env["Logging__Format"] = "json";
        var rules = FaultRules.GetValueOrDefault(name) ?? [];
        for (var i = 0; i < rules.Length; i++)
            (env[$"FaultInjection__Rules__{i}__Point"], env[$"FaultInjection__Rules__{i}__Match"],
                env[$"FaultInjection__Rules__{i}__Kind"]) = rules[i];
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = Traces.Address.ToString().TrimEnd('/');
        env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        env["OTEL_BSP_SCHEDULE_DELAY"] = "500";
        env["OTEL_METRIC_EXPORT_INTERVAL"] = "60000";
        foreach (var (cluster, clusterPort) in new[] { ("ingestion", 18081), ("tokenization", 18082),
            ("training", 18083), ("evaluation", 18084), ("generation", 18085) })
            env[$"ReverseProxy__Clusters__{cluster}__Destinations__primary__Address"] =
                $"http://127.0.0.1:{clusterPort}";

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            env[key] = value;

        var process = new Process { StartInfo = start };
        var log = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add((instance ?? name, process, log));
    }

    /// <summary>
    /// A second instance of a service (e.g. another training worker) on its own port, same database and virtual host;
    /// the gateway does not route to it. Named <paramref name="instance"/> in the logs; stop it with <see
    /// cref="StopAsync"/>.
    /// <paramref name="settings"/> are environment variables set on top of the stack's own.
    /// </summary>
    public void StartInstance(string name, string instance, int port, IReadOnlyDictionary<string,
        string>? settings = null) =>
        Start(name, port, instance, settings);

    public async Task StopAsync(string instance)
    {
        var index = _processes.FindIndex(p => p.Name == instance);
        if (index < 0)
            return;
        var (_, process, log) = _processes[index];
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        lock (log)
            _exited.Add($"--- {instance} (stopped) ---\n{log}");
        _processes.RemoveAt(index);
    }

    /// <summary>The operating-system process id of a running service (e.g. to read its peak memory).</summary>
    public int ProcessIdOf(string name) => _processes.Single(p => p.Name == name).Process.Id;

    /// <summary>kill -9 without a restart (a dead worker that nobody brings back); <see cref="RestartExitedAsync"/>
    /// starts it again.</summary>
    public async Task KillAsync(string name)
    {
        var process = _processes.Single(p => p.Name == name).Process;
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    /// <summary>Whether the service's process has exited (crashed) since it was started.</summary>
    public bool HasExited(string name) => _processes.Single(p => p.Name == name).Process.HasExited;

    /// <summary>Starts a service that died again, as a supervisor would.</summary>
    public async Task RestartExitedAsync(string name)
    {
        var index = _processes.FindIndex(p => p.Name == name);
        var (_, process, log) = _processes[index];
        await process.WaitForExitAsync();
        lock (log)
            _exited.Add($"--- {name} (exited with {process.ExitCode}) ---\n{log}");
        _processes.RemoveAt(index);
        var port = Services.Single(s => s.Name == name).Port;
        Start(name, port);
        // The service itself first: the gateway's readiness may still be the answer it cached (for a second) from
        // before the kill.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (!await Api.ReadyAsync(port))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{name} did not become ready again:\n" + Logs());
            await Task.Delay(250);
        }
        await WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
    }

    /// <summary>Every log line of every process of <paramref name="name"/> (and its extra instances) so far, restarts
    /// included.</summary>
    public string LogsOf(string name) =>
        string.Join("\n", _processes.Where(p => p.Name.StartsWith(name, StringComparison.Ordinal)).Select(p =>
    {
        lock (p.Log)
            return p.Log.ToString();
    }).Concat(_exited.Where(e => e.StartsWith($"--- {name}", StringComparison.Ordinal))));

    /// <summary>Kills a service the hard way (as a crash would) and starts it again.</summary>
    public async Task CrashAndRestartAsync(string name)
    {
        var index = _processes.FindIndex(p => p.Name == name);
        var (_, process, _) = _processes[index];
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        lock (_processes[index].Log)
            _exited.Add($"--- {name} (before restart) ---\n{_processes[index].Log}");
        _processes.RemoveAt(index);
        var port = Services.Single(s => s.Name == name).Port;
        Start(name, port);
        // The service itself first: the gateway's readiness may still be the answer it cached (for a second) from
        // before the kill.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (!await Api.ReadyAsync(port))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{name} did not become ready again:\n" + Logs());
            await Task.Delay(250);
        }
        await WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_processes.FirstOrDefault(p => p.Process.HasExited) is { Process: not null } dead)
                throw new InvalidOperationException($"{dead.Name} exited with code " +
                    $"{dead.Process.ExitCode}:\n{Tail(dead.Log)}");
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

    /// <summary>Everything every service has written so far (stdout and stderr), for tests about the logs
    /// themselves.</summary>
    public string AllLogs() => string.Join("\n", _processes.Select(p =>
    {
        lock (p.Log)
            return $"--- {p.Name} ---\n{p.Log}";
    }).Concat(_exited));

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
        Anonymous.Dispose();
        Traces.Dispose();
        await Bucket.DisposeAsync();
        foreach (var folder in Directory.GetDirectories(Path.GetDirectoryName(ArtifactsRoot)!,
            Path.GetFileName(ArtifactsRoot) + "*"))
            try
            { Directory.Delete(folder, recursive: true); }
            catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<PlatformStack>
{
    public const string Name = "platform";
}
