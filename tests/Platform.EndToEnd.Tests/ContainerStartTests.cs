using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// Every service starts as its image starts it: "dotnet &lt;Service&gt;.dll" in its folder with the Dockerfile's ENV
/// (ASPNETCORE_URLS=http://+:8080, on a free port here) and the settings docker-compose.yml gives, nothing on the
/// command line, and answers on that address. (appsettings.json once set "Urls", which silently won.)
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ContainerStartTests(PlatformStack stack)
{
    private static Dictionary<string, string> DockerfileEnv()
    {
        var dockerfile = File.ReadAllText(Path.Combine(PlatformStack.RepoRoot, "infra", "docker",
            "Dockerfile")).Replace("\\\n", " ");
        var runtime = dockerfile[dockerfile.LastIndexOf("FROM ", StringComparison.Ordinal)..];
        return Regex.Matches(runtime, @"^ENV\s+(.+)$", RegexOptions.Multiline)
            .SelectMany(m =>
            Regex.Matches(m.Groups[1].Value, @"(\w+)=(\S+)").Select(p => (p.Groups[1].Value, p.Groups[2].Value)))
            .ToDictionary(p => p.Item1, p => p.Item2);
    }

    [Theory]
    [InlineData("Gateway")]
    [InlineData("Ingestion")]
    [InlineData("Tokenization")]
    [InlineData("Training")]
    [InlineData("Evaluation")]
    [InlineData("Generation")]
    public async Task A_service_listens_where_its_environment_says(string service)
    {
        var image = DockerfileEnv();
        Assert.Equal("http://+:8080", image["ASPNETCORE_URLS"]);
        var port = Platform.Tests.Shared.LoopbackPort.Free();
        var bin = Path.GetDirectoryName(Path.GetFullPath(Path.Combine(PlatformStack.RepoRoot, "services", service,
            "bin",
            Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)))!,
            "net10.0", service + ".dll")))!;
        var start = new ProcessStartInfo("dotnet", [Path.Combine(bin, service + ".dll")])
        {
            WorkingDirectory = bin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var env = start.Environment;
        foreach (var inherited in env.Keys.Where(k => k.StartsWith("ASPNETCORE_") || k.StartsWith("ReverseProxy__")
            || k.StartsWith("Services__")).ToList())
            env.Remove(inherited);
        env["ASPNETCORE_URLS"] = image["ASPNETCORE_URLS"].Replace(":8080", $":{port}");
        env["Artifacts__Root"] = stack.ArtifactsRoot;
        env["ConnectionStrings__Platform"] = stack.PostgresConnection;
        env["ConnectionStrings__RabbitMq"] = stack.RabbitMq.ToString();
        env["PLATFORM_INTERNAL_SECRET"] = stack.InternalSecret;
        env["PLATFORM_ADMIN_KEY"] = stack.AdminKey;
        env["Services__Ingestion"] = PlatformStack.ServiceAddress("Ingestion").ToString();
        env["Services__Training"] = PlatformStack.ServiceAddress("Training").ToString();

        using var process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (true)
            {
                // The output is read under its lock only: the handlers append to it from other threads.
                if (process.HasExited)
                    lock (output)
                        Assert.Fail($"{service} exited: {output}");
                try
                {
                    using var response = await http.GetAsync($"http://127.0.0.1:{port}/health/live");
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    break;
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(250);
                }
            }
            lock (output)
                Assert.Contains($"Now listening on: http://[::]:{port}", output.ToString());
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
