using Platform.Storage;

namespace Platform.Services.Tests;

/// <summary>The artifact store's staging area: files a killed writer left are swept, files being written and committed
/// artifacts are not.</summary>
public sealed class StagingSweepTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "staging-sweep-"
        + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Only_staged_files_untouched_for_longer_than_the_age_are_deleted()
    {
        var store = new ArtifactStore(_root);
        var now = new DateTime(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);
        string StagedFile(TimeSpan untouchedFor)
        {
            var staged = store.Stage();   // as a killed writer leaves it: never committed, never disposed
            File.WriteAllText(staged.Path, "half a checkpoint");
            File.SetLastWriteTimeUtc(staged.Path, now - untouchedFor);
            return staged.Path;
        }
        var abandoned = new[] { StagedFile(TimeSpan.FromHours(5)), StagedFile(TimeSpan.FromMinutes(61)) };
        var fresh = new[] { StagedFile(TimeSpan.FromMinutes(59)), StagedFile(TimeSpan.Zero) };
        await store.WriteAsync("runs/r/latest.ckpt", s => s.WriteAsync("weights"u8.ToArray()).AsTask());
        File.SetLastWriteTimeUtc(store.PathOf("runs/r/latest.ckpt"), now - TimeSpan.FromDays(30));

        Assert.Equal(2, store.SweepStaging(TimeSpan.FromHours(1), now));

        Assert.All(abandoned, path => Assert.False(File.Exists(path)));
        Assert.All(fresh, path => Assert.True(File.Exists(path)));
        Assert.True(store.Exists("runs/r/latest.ckpt"));
        Assert.Equal(0, store.SweepStaging(TimeSpan.FromHours(1), now));
    }
}
