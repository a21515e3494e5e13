namespace Platform.Tokenizers.Tests;

/// <summary>The demo corpus committed with the project (infra/demo/tinyshakespeare.txt).</summary>
internal static class DemoCorpus
{
    public static readonly string Text = File.ReadAllText(Path.Combine(RepositoryRoot(), "infra", "demo", "tinyshakespeare.txt"));

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException("Platform.sln not found above the test assembly.");
    }
}
