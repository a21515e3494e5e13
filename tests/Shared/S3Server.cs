using System.Diagnostics;
using System.Net;
using Xunit;

namespace Platform.Tests.Shared;

/// <summary>
/// s3rver, an S3-compatible server on Node.js, on a free loopback port with one bucket ("artifacts"); infra/setup.sh
/// --test installs it into .data/s3rver.
/// </summary>
public sealed class S3Server : IAsyncLifetime
{
    /// <summary>The settings a service takes to keep its artifacts in this server's bucket.</summary>
    public Dictionary<string, string> ServiceSettings(string prefix = "") => new()
    {
        ["Artifacts__Store"] = "s3",
        ["Artifacts__S3__ServiceUrl"] = Url,
        ["Artifacts__S3__Bucket"] = Bucket,
        ["Artifacts__S3__Prefix"] = prefix,
        ["Artifacts__S3__AccessKey"] = AccessKey,
        ["Artifacts__S3__SecretKey"] = SecretKey,
    };

    public const string Bucket = "artifacts", AccessKey = "S3RVER", SecretKey = "S3RVER";
    private readonly string _data = Directory.CreateTempSubdirectory("s3rver-").FullName;
    /// <summary>Where the server keeps the bucket's objects on disk (each object's bytes in a file of its
    /// own).</summary>
    public string DataDirectory => _data;
    private Process? _process;
    public int Port { get; } = LoopbackPort.Free();
    public string Url => $"http://127.0.0.1:{Port}";

    public async Task InitializeAsync()
    {
        var server = Environment.GetEnvironmentVariable("PLATFORM_TEST_S3RVER")
                     ?? Path.Combine(RepoRoot.Path, ".data", "s3rver", "node_modules", ".bin", "s3rver");
        Assert.True(File.Exists(server),
            $"{server} is missing: run `bash infra/setup.sh --test` (it installs s3rver from npm).");
        _process = Process.Start(new ProcessStartInfo(server,
            ["-d", _data, "-a", "127.0.0.1", "-p", Port.ToString(), "--configure-bucket", Bucket, "--no-vhost-buckets",
            "--silent"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(200))
        {
            try
            {
                using var response = await http.GetAsync($"{Url}/{Bucket}");
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Forbidden)
                    return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
            }
            if (DateTime.UtcNow >= deadline || _process.HasExited)
            {
                if (!_process.HasExited)
                    _process.Kill(entireProcessTree: true);
                Assert.Fail($"s3rver did not start: {await _process.StandardError.ReadToEndAsync()}");
            }
        }
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
            _process.Kill(entireProcessTree: true);
        _process?.WaitForExit();
        Directory.Delete(_data, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>The object as the server holds it, read without the SDK: null when there is none.</summary>
    public async Task<byte[]?> RawObjectAsync(string key)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync($"{Url}/{Bucket}/{key}");
        return response.StatusCode == HttpStatusCode.NotFound ? null
            : await response.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync();
    }
}
