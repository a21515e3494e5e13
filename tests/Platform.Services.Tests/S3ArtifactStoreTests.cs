using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Platform.Storage;

namespace Platform.Services.Tests;

/// <summary>
/// The artifact store with an S3 bucket behind it, as two replicas with their own local folders use it: what one
/// commits the other reads, an overwrite replaces the other's cached copy, and deletions reach the bucket.
/// </summary>
public sealed class S3ArtifactStoreTests(S3Server s3) : IClassFixture<S3Server>, IDisposable
{
    private readonly string _first = Directory.CreateTempSubdirectory("artifacts-a-").FullName;
    private readonly string _second = Directory.CreateTempSubdirectory("artifacts-b-").FullName;
    private readonly string _prefix = $"t{Guid.NewGuid():N}/";

    public void Dispose()
    {
        Directory.Delete(_first, recursive: true);
        Directory.Delete(_second, recursive: true);
    }

    /// <summary>A store built as the services build theirs, from configuration.</summary>
    private ArtifactStore Replica(string root)
    {
        var settings = s3.ServiceSettings(_prefix).ToDictionary(s => s.Key.Replace("__", ":"), s => (string?)s.Value);
        settings["Artifacts:Root"] = root;
        return new ServiceCollection().AddArtifactStore(
            new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .BuildServiceProvider().GetRequiredService<ArtifactStore>();
    }

    [Fact]
    public async Task What_one_replica_commits_the_other_reads_from_the_bucket()
    {
        var (a, b) = (Replica(_first), Replica(_second));
        Assert.StartsWith($"s3 {s3.Url}/{S3Server.Bucket}/", a.Backend.Describe());
        var checkpoint = RandomNumberGenerator.GetBytes(3 << 20);   // above the SDK's single-part buffer sizes
        await a.WriteAsync("runs/r1/latest.ckpt", s => s.WriteAsync(checkpoint).AsTask());
        using (var staged = a.Stage())
        {
            await File.WriteAllTextAsync(staged.Path, "{\"vocab\": 65}");
            staged.Commit("tokenizers/t1/tokenizer.json");
        }

        // In the bucket, read over plain HTTP, and from the second replica's own folder, fetched on first use.
        Assert.Equal(checkpoint, await s3.RawObjectAsync(_prefix + "runs/r1/latest.ckpt"));
        Assert.False(File.Exists(Path.Combine(_second, "runs", "r1", "latest.ckpt")));
        Assert.True(b.Exists("runs/r1/latest.ckpt"));
        var path = b.PathOf("runs/r1/latest.ckpt");
        Assert.StartsWith(_second, path);
        Assert.Equal(checkpoint, await File.ReadAllBytesAsync(path));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(checkpoint)), await b.Sha256Async("runs/r1/latest.ckpt"));
        using (var reader = new StreamReader(b.OpenRead("tokenizers/t1/tokenizer.json")))
            Assert.Equal("{\"vocab\": 65}", await reader.ReadToEndAsync());
        Assert.False(b.Exists("runs/r1/best.ckpt"));

        // A token file comes with its sidecar, which readers open by path beside it.
        await a.WriteAsync("tokenizers/t1/train.bin", s => s.WriteAsync(new byte[] { 1, 0, 2, 0 }).AsTask());
        await a.WriteAsync("tokenizers/t1/train.bin.json", s => s.WriteAsync("{\"count\": 2}"u8.ToArray()).AsTask());
        var tokens = b.PathOfWithSidecar("tokenizers/t1/train.bin");
        Assert.Equal([1, 0, 2, 0], await File.ReadAllBytesAsync(tokens));
        Assert.Equal("{\"count\": 2}", await File.ReadAllTextAsync(tokens + ".json"));
    }

    [Fact]
    public async Task An_overwrite_replaces_the_other_replicas_copy_and_a_deletion_removes_it()
    {
        var (a, b) = (Replica(_first), Replica(_second));
        await a.WriteAsync("runs/r2/latest.ckpt", s => s.WriteAsync("step 100"u8.ToArray()).AsTask());
        Assert.Equal("step 100", await File.ReadAllTextAsync(b.PathOf("runs/r2/latest.ckpt")));
        // The run moves on (another worker resumes it later): the second replica's cached copy is out of date.
        await a.WriteAsync("runs/r2/latest.ckpt", s => s.WriteAsync("step 200"u8.ToArray()).AsTask());
        Assert.Equal("step 200", await File.ReadAllTextAsync(b.PathOf("runs/r2/latest.ckpt")));

        a.Delete("runs/r2/latest.ckpt");
        Assert.Null(await s3.RawObjectAsync(_prefix + "runs/r2/latest.ckpt"));
        Assert.False(b.Exists("runs/r2/latest.ckpt"));
        Assert.False(File.Exists(b.PathOf("runs/r2/latest.ckpt")));   // the stale copy is gone, not served
    }

    [Fact]
    public async Task Deleting_a_prefix_removes_its_objects_from_the_bucket_and_nothing_else()
    {
        var (a, b) = (Replica(_first), Replica(_second));
        foreach (var key in new[] { "datasets/d1/train.txt", "datasets/d1/validation.txt",
            "datasets/d1/tokens/train.bin", "datasets/d10/train.txt" })
            await a.WriteAsync(key, s => s.WriteAsync(System.Text.Encoding.UTF8.GetBytes(key)).AsTask());
        b.PathOf("datasets/d1/train.txt");

        b.DeletePrefix("datasets/d1");

        foreach (var key in new[] { "datasets/d1/train.txt", "datasets/d1/validation.txt",
            "datasets/d1/tokens/train.bin" })
        {
            Assert.Null(await s3.RawObjectAsync(_prefix + key));
            Assert.False(a.Exists(key));
        }
        Assert.False(Directory.Exists(Path.Combine(_second, "datasets", "d1")));
        Assert.Equal("datasets/d10/train.txt"u8.ToArray(), await s3.RawObjectAsync(_prefix + "datasets/d10/train.txt"));
    }

    [Fact]
    public void A_store_of_an_unknown_kind_or_without_a_bucket_is_refused_at_start()
    {
        IServiceProvider Build(string store, string? bucket) =>
            new ServiceCollection().AddArtifactStore(new ConfigurationBuilder().AddInMemoryCollection(
            new Dictionary<string,
            string?>
            {
                ["Artifacts:Root"] = _first,
                ["Artifacts:Store"] = store,
                ["Artifacts:S3:Bucket"] = bucket
            }).Build())
            .BuildServiceProvider();
        Assert.Contains("\"volume\"", Assert.Throws<InvalidOperationException>(() => Build("ftp", null)).Message);
        Assert.Contains("Artifacts:S3:Bucket",
            Assert.Throws<InvalidOperationException>(() => Build("s3", null)).Message);
        Assert.True(Build("volume", null).GetRequiredService<ArtifactStore>().Backend.IsLocalFolder);
    }
}
