using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Storage;

/// <summary>
/// Content shared between services (corpora, token files, tokenizers, checkpoints), addressed by a relative
/// key such as "datasets/{id}/train.txt". Every service works on local files under one root; where the artifacts live
/// for good is the <see cref="IArtifactBackend"/>: that same folder when it is a volume every replica mounts, or an
/// S3-compatible bucket, of which the folder is then a cache (a file is fetched when a reader asks for it and is
/// absent or out of date, and uploaded when it is committed).
/// Writes land in a temporary file and are renamed into place, so a reader never sees half an artifact
/// and a failed write never replaces a good one.
/// </summary>
public sealed class ArtifactStore
{
    /// <summary>Key → version tag of the local copy, for a backend that is not the folder: a copy is used while its tag
    /// is current.</summary>
    private readonly ConcurrentDictionary<string, string> _copies = new(StringComparer.Ordinal);

    public string Root { get; }
    /// <summary>Where the artifacts live for good: this folder (a shared volume) or a bucket it caches.</summary>
    public IArtifactBackend Backend { get; }

    public ArtifactStore(string root, IArtifactBackend? backend = null)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Path.Combine(Root, ".staging"));
        Backend = backend ?? new SharedVolumeBackend(Root);
    }

    /// <summary>
    /// Absolute path of the artifact's local file, to read (or memory-map); rejects keys that would escape the root.
    /// With a bucket behind the store, the file is fetched first when it is absent or older than the bucket's.
    /// </summary>
    public string PathOf(string key)
    {
        var path = LocalPathOf(key);
        if (!Backend.IsLocalFolder)
            Wait(FetchAsync(key, path, CancellationToken.None));
        return path;
    }

    /// <summary>
    /// The path of a token or pair file whose description is a sidecar beside it ("{key}.json"), which readers open by
    /// path: both, and a token file's loss mask when it has one, are fetched, so they are there even in a folder that
    /// held none.
    /// </summary>
    public string PathOfWithSidecar(string key)
    {
        PathOf(key + SidecarSuffix);
        if (Exists(key + MaskSuffix))
            PathOf(key + MaskSuffix);
        return PathOf(key);
    }

    /// <summary>The suffix of a token or pair file's sidecar (Platform.Tokenizers' TokenFileInfo and
    /// PairFileInfo).</summary>
    public const string SidecarSuffix = ".json";

    /// <summary>The suffix of a token file's loss mask (Platform.Tokenizers' TokenFileInfo), when it has one.</summary>
    public const string MaskSuffix = ".mask";

    private string LocalPathOf(string key)
    {
        var full = Path.GetFullPath(Path.Combine(Root, key));
        if (!full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"Artifact key '{key}' is outside the store.", nameof(key));
        return full;
    }

    /// <summary>Brings the local copy up to the backend's version; removes it when the backend no longer has the
    /// artifact.</summary>
    private async Task FetchAsync(string key, string path, CancellationToken cancellationToken)
    {
        var version = await Backend.VersionOfAsync(key, cancellationToken);
        if (version is null)
        {
            _copies.TryRemove(key, out _);
            File.Delete(path);
            return;
        }
        if (_copies.TryGetValue(key, out var held) && held == version && File.Exists(path))
            return;
        var staged = Path.Combine(Root, ".staging", Guid.NewGuid().ToString("N"));
        try
        {
            if (await Backend.DownloadAsync(key, staged, cancellationToken) is not { } fetched)
                return;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // A reader that has the previous copy open (or memory-mapped) keeps it: the rename replaces the name only.
            File.Move(staged, path, overwrite: true);
            _copies[key] = fetched;
        }
        finally
        {
            File.Delete(staged);
        }
    }

    public bool Exists(string key) => Backend.IsLocalFolder
        ? File.Exists(LocalPathOf(key))
        : Wait(Backend.VersionOfAsync(key, CancellationToken.None)) is not null;

    public Stream OpenRead(string key) =>
        new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16,
        FileOptions.SequentialScan);

    /// <summary>A new file in the store's staging area, to be committed under a key with <see
    /// cref="Commit"/>.</summary>
    public StagedArtifact Stage() => new(this, Path.Combine(Root, ".staging", Guid.NewGuid().ToString("N")));

    internal void Commit(string stagedPath, string key) => Wait(CommitAsync(stagedPath, key, CancellationToken.None));

    /// <summary>Moves the staged file into place, then, with a bucket behind the store, uploads it before
    /// returning.</summary>
    private async Task CommitAsync(string stagedPath, string key, CancellationToken cancellationToken)
    {
        var target = LocalPathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(stagedPath, target, overwrite: true);
        if (!Backend.IsLocalFolder)
            _copies[key] = await Backend.UploadAsync(key, target, cancellationToken);
    }

    public async Task WriteAsync(string key, Func<Stream, Task> write)
    {
        using var staged = Stage();
        await using (var stream = staged.OpenWrite())
            await write(stream);
        await CommitAsync(staged.Path, key, CancellationToken.None);
        staged.MarkCommitted();
    }

    public async Task<string> Sha256Async(string key, CancellationToken cancellationToken = default)
    {
        await using var stream = OpenRead(key);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    /// <summary>Removes one artifact; nothing happens when it does not exist.</summary>
    public void Delete(string key)
    {
        File.Delete(LocalPathOf(key));
        _copies.TryRemove(key, out _);
        if (!Backend.IsLocalFolder)
            Wait(Backend.DeleteAsync(key, CancellationToken.None));
    }

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

    /// <summary>Removes every artifact under "<paramref name="prefix"/>/" (a dataset's, a run's files).</summary>
    public void DeletePrefix(string prefix)
    {
        var dir = LocalPathOf(prefix);
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
        foreach (var key in _copies.Keys.Where(k => k.StartsWith(prefix.TrimEnd('/') + "/", StringComparison.Ordinal)))
            _copies.TryRemove(key, out _);
        if (!Backend.IsLocalFolder)
            Wait(Backend.DeletePrefixAsync(prefix, CancellationToken.None));
    }

    // The store's API is synchronous where its callers are (paths for memory-mapping, commits from training threads);
    // the backend's calls are asynchronous. ASP.NET Core has no synchronisation context, so waiting cannot deadlock.
    private static void Wait(Task task) => task.GetAwaiter().GetResult();
    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();
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

    internal void MarkCommitted() => _committed = true;

    public void Dispose()
    {
        if (!_committed && File.Exists(Path))
            File.Delete(Path);
    }
}

public static class ArtifactStoreExtensions
{
    /// <summary>
    /// Artifacts:Root (default ./.data/artifacts relative to the working directory) is the local folder;
    /// Artifacts:Store says where artifacts live: "volume" (the default: that folder, shared by every replica) or "s3"
    /// (the bucket Artifacts:S3 describes; the folder is then each replica's cache).
    /// </summary>
    public static IServiceCollection AddArtifactStore(this IServiceCollection services, IConfiguration configuration)
    {
        var root = configuration["Artifacts:Root"] ?? Path.Combine(".data", "artifacts");
        var kind = configuration["Artifacts:Store"] ?? "volume";
        IArtifactBackend backend = kind.ToLowerInvariant() switch
        {
            "volume" => new SharedVolumeBackend(Path.GetFullPath(root)),
            "s3" => new S3ArtifactBackend(configuration.GetSection("Artifacts:S3").Get<S3ArtifactOptions>()
            ?? new S3ArtifactOptions()),
            _ => throw new InvalidOperationException($"Artifacts:Store is '{kind}': use \"volume\" (a shared folder) " +
            $"or \"s3\" (an S3-compatible bucket)."),
        };
        services.AddSingleton(backend);
        return services.AddSingleton(new ArtifactStore(root, backend));
    }
}
