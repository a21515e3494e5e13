namespace Platform.Tests.Shared;

/// <summary>The checkout's root (the folder with Platform.sln), for tests that read the repository's own
/// files.</summary>
public static class RepoRoot
{
    public static readonly string Path = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Platform.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException("Platform.sln not found above the test assembly.");
    }
}
