namespace Platform.Tokenizers.Tests;

/// <summary>The demo corpus committed with the project (infra/demo/tinyshakespeare.txt).</summary>
internal static class DemoCorpus
{
    public static readonly string Text = File.ReadAllText(Path.Combine(Platform.Tests.Shared.RepoRoot.Path, "infra",
        "demo", "tinyshakespeare.txt"));
}
