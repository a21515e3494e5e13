using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Storage;

/// <summary>
/// Content shared between services (corpora, token files, tokenizers, checkpoints), addressed by a relative
/// key such as "datasets/{id}/train.txt" under one root: a local folder or a volume mounted in every container.
/// Writes land in a temporary file and are renamed into place, so a reader never sees half an artifact
/// and a failed write never replaces a good one.
/// </summary>
public sealed class ArtifactStore
{
    public string Root { get; }

    public ArtifactStore(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Path.Combine(Root, ".staging"));
    }

    /// <summary>Absolute path of a key; rejects keys that would escape the root.</summary>
    public string PathOf(string key)
    {
        var full = Path.GetFullPath(Path.Combine(Root, key));
        if (!full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"Artifact key '{key}' is outside the store.", nameof(key));
        return full;
    }

    public bool Exists(string key) => File.Exists(PathOf(key));

    public Stream OpenRead(string key) =>
        new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);

    /// <summary>A new file in the store's staging area, to be committed under a key with <see cref="Commit"/>.</summary>
    public StagedArtifact Stage() => new(this, Path.Combine(Root, ".staging", Guid.NewGuid().ToString("N")));

    internal void Commit(string stagedPath, string key)
    {
        var target = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(stagedPath, target, overwrite: true);
    }

    public async Task WriteAsync(string key, Func<Stream, Task> write)
    {
        using var staged = Stage();
        await using (var stream = staged.OpenWrite())
            await write(stream);
        staged.Commit(key);
    }

    public async Task<string> Sha256Async(string key, CancellationToken cancellationToken = default)
    {
        await using var stream = OpenRead(key);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    /// <summary>Removes one artifact; nothing happens when it does not exist.</summary>
    public void Delete(string key) => File.Delete(PathOf(key));

    /// <summary>
    /// Deletes staged files nobody has written to since <paramref name="olderThan"/> before <paramref name="nowUtc"/>:
    /// what a process killed mid-write (out of memory, kill -9) leaves behind, since its dispose never ran. A writer
    /// still at work touches its file as it writes, so it is never taken. Returns how many were deleted.
    /// </summary>
    public int SweepStaging(TimeSpan olderThan, DateTime nowUtc)
    {
        var swept = 0;
        foreach (var file in new DirectoryInfo(Path.Combine(Root, ".staging")).EnumerateFiles())
        {
            if (file.LastWriteTimeUtc > nowUtc - olderThan)
                continue;
            try
            {
                file.Delete();
                swept++;
            }
            catch (IOException)
            {
                // Another service sharing the store swept it first.
            }
        }
        return swept;
    }

    public void DeletePrefix(string prefix)
    {
        var dir = PathOf(prefix);
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
    }
}

/// <summary>A staged file: deleted on dispose unless committed.</summary>
public sealed class StagedArtifact(ArtifactStore store, string path) : IDisposable
{
    private bool _committed;
    public string Path { get; } = path;

    public FileStream OpenWrite() => new(Path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);

    public void Commit(string key)
    {
        store.Commit(Path, key);
        _committed = true;
    }

    public void Dispose()
    {
        if (!_committed && File.Exists(Path))
            File.Delete(Path);
    }
}

public static class ArtifactStoreExtensions
{
    /// <summary>Artifacts:Root, default ./.data/artifacts relative to the working directory.</summary>
    public static IServiceCollection AddArtifactStore(this IServiceCollection services, IConfiguration configuration)
    {
        var root = configuration["Artifacts:Root"] ?? Path.Combine(".data", "artifacts");
        return services.AddSingleton(new ArtifactStore(root));
    }
}
