namespace Platform.Storage;

/// <summary>
/// Where artifacts live for good, behind the <see cref="ArtifactStore"/> every service uses. The store keeps a working
/// copy of each artifact in its local folder (services read checkpoints and memory-map token files from there); the
/// backend is what every replica shares: the folder itself when it is a shared volume, or an S3-compatible bucket.
/// </summary>
public interface IArtifactBackend
{
    /// <summary>The local folder is the shared store itself: nothing is copied, and a file there is the
    /// artifact.</summary>
    bool IsLocalFolder { get; }

    /// <summary>A short description for logs and health ("shared volume /data/artifacts", "s3 http://…/bucket"); never
    /// a secret.</summary>
    string Describe();

    /// <summary>The artifact's version tag (an ETag), or null when there is no such artifact.</summary>
    Task<string?> VersionOfAsync(string key, CancellationToken cancellationToken);

    /// <summary>Stores the file at <paramref name="path"/> under the key, replacing any artifact there; returns its
    /// version tag.</summary>
    Task<string> UploadAsync(string key, string path, CancellationToken cancellationToken);

    /// <summary>Writes the artifact to <paramref name="path"/>; returns its version tag, or null when there is no such
    /// artifact.</summary>
    Task<string?> DownloadAsync(string key, string path, CancellationToken cancellationToken);

    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes every artifact whose key starts with "<paramref name="prefix"/>/".</summary>
    Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken);
}

/// <summary>The local folder is a volume every replica mounts (one machine, docker compose, a ReadWriteMany
/// claim).</summary>
public sealed class SharedVolumeBackend(string root) : IArtifactBackend
{
    public bool IsLocalFolder => true;
    public string Describe() => $"shared volume {root}";
    public Task<string?> VersionOfAsync(string key, CancellationToken cancellationToken) =>
        Task.FromResult<string?>(null);
    public Task<string> UploadAsync(string key, string path, CancellationToken cancellationToken) =>
        Task.FromResult("");
    public Task<string?> DownloadAsync(string key, string path, CancellationToken cancellationToken) =>
        Task.FromResult<string?>(null);
    public Task DeleteAsync(string key, CancellationToken cancellationToken) => Task.CompletedTask;
    public Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken) => Task.CompletedTask;
}
