using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Platform.Services.Tests;

/// <summary>
/// docker-compose.yml as a real compose parser reads it (Debian's docker-compose 1.29, installed by infra/setup.sh;
/// "config" needs no Docker engine): every credential from .env, only the gateway reachable from outside, every
/// service with a healthcheck, and the gateway waiting for all of them.
/// </summary>
public class ComposeFileTests
{
    private static readonly string Root = RepoRoot.Path;
    private static readonly string[] Backends = ["ingestion", "tokenization", "training", "evaluation", "generation"];

    private static (int ExitCode, string Output, string Error) Compose(string envFile, params string[] overrides)
    {
        string[] files = ["docker-compose.yml", .. overrides];
        var start = new ProcessStartInfo("docker-compose",
            ["--env-file", envFile, .. files.SelectMany(f => new[] { "-f", Path.Combine(Root, f) }), "config"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        // Nothing from this process's environment may fill in a variable: only the env file.
        foreach (var name in new[] { "POSTGRES_USER", "POSTGRES_PASSWORD", "RABBITMQ_USER", "RABBITMQ_PASSWORD",
            "PLATFORM_INTERNAL_SECRET", "PLATFORM_ADMIN_KEY", "GATEWAY_PORT" })
            start.Environment.Remove(name);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    private static Dictionary<string, string> ExampleEnv() => File.ReadAllLines(Path.Combine(Root, ".env.example"))
        .Where(l => l.Contains('=') && !l.TrimStart().StartsWith('#'))
        .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);

    private static YamlMappingNode Map(YamlNode node, string key) =>
        (YamlMappingNode)((YamlMappingNode)node).Children[new YamlScalarNode(key)];
    private static bool Has(YamlNode node, string key) =>
        ((YamlMappingNode)node).Children.ContainsKey(new YamlScalarNode(key));

    [Fact]
    public void The_compose_file_parses_and_keeps_the_services_behind_the_gateway()
    {
        var (exit, output, error) = Compose(Path.Combine(Root, ".env.example"));
        Assert.True(exit == 0, $"docker-compose config failed: {error}");
        var yaml = new YamlStream();
        yaml.Load(new StringReader(output));
        var services = Map(yaml.Documents[0].RootNode, "services");
        var names = services.Children.Keys.Select(k => k.ToString()).ToHashSet();
        string[] oneShots = ["db-roles", "audit-lock"];
        Assert.Superset(new HashSet<string>([.. Backends, "gateway", "postgres", "rabbitmq", .. oneShots]), names);

        foreach (var (key, service) in services.Children.Where(s => !oneShots.Contains(s.Key.ToString())))
        {
            Assert.True(Has(service, "healthcheck"), $"{key} has no healthcheck");
            // A container that dies is started again by the engine.
            Assert.Equal("unless-stopped",
                ((YamlMappingNode)service).Children[new YamlScalarNode("restart")].ToString());
            Assert.Equal(key.ToString() == "gateway", Has(service, "ports"));
        }
        var gateway = Map(services, "gateway");
        var dependsOn = Map(gateway, "depends_on");
        foreach (var backend in Backends)
            Assert.Equal("service_healthy",
                Map(dependsOn, backend).Children[new YamlScalarNode("condition")].ToString());

        // The roles are made before any service starts, and the audit table is locked once the gateway has migrated.
        foreach (var backend in Backends.Append("gateway"))
            Assert.Equal("service_completed_successfully",
                Map(Map(Map(services, backend), "depends_on"),
                "db-roles").Children[new YamlScalarNode("condition")].ToString());
        Assert.Equal("service_healthy",
            Map(Map(Map(services, "audit-lock"), "depends_on"),
            "gateway").Children[new YamlScalarNode("condition")].ToString());
        Assert.Contains("/db/roles.sql", string.Join(" ", ((YamlSequenceNode)Map(services, "db-roles")
            .Children[new YamlScalarNode("command")]).Children.Select(c => c.ToString())));

        var networks = Map(yaml.Documents[0].RootNode, "networks");
        Assert.Equal("true", Map(networks, "internal").Children[new YamlScalarNode("internal")].ToString());
        foreach (var backend in Backends.Concat(["postgres", "rabbitmq"]))
            Assert.Equal(["internal"], Map(Map(services, backend), "networks").Children.Keys.Select(k => k.ToString()));

        // The secrets in the services' environment are the env file's, passed in.
        var env = ExampleEnv();
        Assert.Equal(env["PLATFORM_ADMIN_KEY"],
            Map(gateway, "environment").Children[new YamlScalarNode("PLATFORM_ADMIN_KEY")].ToString());
        foreach (var backend in Backends.Append("gateway"))
        {
            var environment = Map(Map(services, backend), "environment");
            Assert.Equal(env["PLATFORM_INTERNAL_SECRET"],
                environment.Children[new YamlScalarNode("PLATFORM_INTERNAL_SECRET")].ToString());
            // Each service logs in as its own role, with its own password.
            var database = environment.Children[new YamlScalarNode("ConnectionStrings__Platform")].ToString();
            Assert.Contains($"Username=platform_{backend};", database);
            Assert.Contains($"Password={env[$"DB_PASSWORD_{backend.ToUpperInvariant()}"]}", database);
            Assert.Equal("http://+:8080", environment.Children[new YamlScalarNode("ASPNETCORE_URLS")].ToString());
        }

        // Each backend logs in to RabbitMQ as its own user, which the broker imports at start; the gateway has none.
        var broker = Map(services, "rabbitmq");
        Assert.Equal(["sh", "/broker/start.sh"],
            ((YamlSequenceNode)broker.Children[new YamlScalarNode("entrypoint")]).Children.Select(c => c.ToString()));
        Assert.Contains(((YamlSequenceNode)broker.Children[new YamlScalarNode("volumes")]).Children,
            v => v.ToString().EndsWith("/infra/broker:/broker:ro"));
        foreach (var backend in Backends)
        {
            var password = env[$"BROKER_PASSWORD_{backend.ToUpperInvariant()}"];
            Assert.Equal($"amqp://platform-{backend}:{password}@rabbitmq:5672/",
                Map(Map(services, backend), "environment")
                .Children[new YamlScalarNode("ConnectionStrings__RabbitMq")].ToString());
            Assert.Equal(password, Map(broker, "environment")
                .Children[new YamlScalarNode($"BROKER_PASSWORD_{backend.ToUpperInvariant()}")].ToString());
        }
        Assert.False(Has(Map(gateway, "environment"), "ConnectionStrings__RabbitMq"));
    }

    [Fact]
    public void The_tls_override_serves_the_gateway_on_https_from_mounted_pem_files_and_leaves_the_services_on_http()
    {
        var (exit, output, error) = Compose(Path.Combine(Root, ".env.example"), "docker-compose.tls.yml");
        Assert.True(exit == 0, $"docker-compose config failed: {error}");
        var yaml = new YamlStream();
        yaml.Load(new StringReader(output));
        var services = Map(yaml.Documents[0].RootNode, "services");
        var gateway = Map(services, "gateway");
        var environment = Map(gateway, "environment");
        string Setting(string name) => environment.Children[new YamlScalarNode(name)].ToString();
        Assert.Equal("https://+:8080", Setting("ASPNETCORE_URLS"));
        var mounted = ((YamlSequenceNode)gateway.Children[new YamlScalarNode("volumes")]).Children.Single().ToString();
        Assert.EndsWith(":/certs:ro", mounted);
        Assert.StartsWith("/certs/", Setting("Kestrel__Certificates__Default__Path"));
        Assert.StartsWith("/certs/", Setting("Kestrel__Certificates__Default__KeyPath"));
        var probe = ((YamlSequenceNode)Map(gateway, "healthcheck").Children[new YamlScalarNode("test")]).Children
            .Select(c => c.ToString()).ToList();
        Assert.Contains("https://127.0.0.1:8080/health/ready", probe);
        foreach (var backend in Backends)
            Assert.Equal("http://+:8080",
                Map(Map(services, backend), "environment").Children[new YamlScalarNode("ASPNETCORE_URLS")].ToString());
    }

    [Fact]
    public void No_credential_is_written_in_the_compose_file_and_none_is_optional()
    {
        var file = File.ReadAllText(Path.Combine(Root, "docker-compose.yml"));
        foreach (var (name, value) in ExampleEnv().Where(e => e.Key.Contains("PASSWORD")
            || e.Key.StartsWith("PLATFORM_")))
            Assert.DoesNotContain(value, file);

        var empty = Path.GetTempFileName();
        try
        {
            var (exit, _, error) = Compose(empty);
            Assert.NotEqual(0, exit);
            Assert.Contains("in .env", error);
        }
        finally
        {
            File.Delete(empty);
        }
    }
}
