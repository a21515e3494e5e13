using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Platform.EndToEnd.Tests;

/// <summary>The `platform` command line, built as docs/dashboard-and-cli.md builds it, against the running
/// stack.</summary>
[Collection(PlatformCollection.Name)]
public sealed class CliTests(PlatformStack stack) : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("platform-cli-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private static string Cli => CliProcess.Path;

    private Task<(int Exit, string Out, string Err)> RunAsync(string? key, string? stdin, params string[] args) =>
        CliProcess.RunAsync(_home, key, stdin, args);

    [Fact]
    public async Task The_cli_logs_in_uploads_watches_promotes_generates_and_explains_with_exit_codes_to_rely_on()
    {
        Assert.True(File.Exists(Cli), $"{Cli} is missing: build the solution");

        // Login keeps the key for later commands, in a file only its owner can read.
        var (loginExit, loginOut, loginErr) = await RunAsync(null, stack.AdminKey, "login");
        Assert.True(loginExit == 0, loginErr);
        Assert.Contains("(admin)", loginOut);
        var file = Path.Combine(_home, "platform", "config.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var (listExit, listOut, _) = await RunAsync(null, null, "runs", "ls", "--json");
        Assert.Equal(0, listExit);
        Assert.NotNull(JsonNode.Parse(listOut)!["items"]);

        // Upload with auto-train, then follow the run to its end.
        var corpus = Path.Combine(_home, "corpus.txt");
        await File.WriteAllTextAsync(corpus, Api.DemoCorpus[..30_000]);
        var spec = Path.Combine(_home, "spec.json");
        await File.WriteAllTextAsync(spec,
            "{\"name\":\"cli-model\",\"model\":{\"nLayer\":1,\"nHead\":2,\"nEmbd\":32," +
            "\"blockSize\":32},\"training\":{\"maxSteps\":300,\"batchSize\":8,\"evalInterval\":100,\"evalIters\":2}}");
        var (uploadExit, uploadOut, uploadErr) = await RunAsync(null, null, "datasets", "upload", corpus, "--tokenizer",
            "char", "--auto-train", spec, "--json");
        Assert.True(uploadExit == 0, uploadErr);
        var runId = JsonNode.Parse(uploadOut)!["autoTrainRunId"]!.GetValue<string>();
        await Api.EventuallyAsync(async () =>
            JsonValue.Create((await Api.GetAsync(stack.Gateway,
            $"/api/runs/{runId}")).Status == System.Net.HttpStatusCode.OK),
            exists => exists.GetValue<bool>(), TimeSpan.FromMinutes(2), stack.Logs);
        var (watchExit, watchOut, watchErr) = await RunAsync(null, null, "runs", "watch", runId, "--json");
        Assert.True(watchExit == 0, watchErr + watchOut);
        var events = watchOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l =>
            JsonNode.Parse(l)!).ToList();
        Assert.Equal("Completed", events[^1]["data"]!["state"]!.GetValue<string>());
        Assert.Contains(events, e => e["event"]!.GetValue<string>() == "progress");
        var (showExit, showOut, _) = await RunAsync(null, null, "runs", "show", runId);
        Assert.Equal(0, showExit);
        Assert.Contains("Completed", showOut);

        // A sweep on the same dataset from a file, followed to its end, then shown with its best run.
        var datasetId = JsonNode.Parse(uploadOut)!["id"]!.GetValue<string>();
        var sweepFile = Path.Combine(_home, "sweep.json");
        await File.WriteAllTextAsync(sweepFile,
            "{\"base\":{\"name\":\"cli-sweep\",\"model\":{\"nLayer\":1,\"nHead\":2,\"nEmbd\":32,\"blockSize\":32}," +
            "\"training\":{\"maxSteps\":30,\"batchSize\":8,\"evalInterval\":10," +
            "\"evalIters\":2}},\"grid\":{\"training.learningRate\":[0.001,0.01]}}");
        var (sweepExit, sweepOut, sweepErr) = await RunAsync(null, null, "sweeps", "start", sweepFile, "--dataset",
            datasetId, "--json");
        Assert.True(sweepExit == 0, sweepErr);
        var sweepId = JsonNode.Parse(sweepOut)!["id"]!.GetValue<string>();
        var (sweepWatchExit, sweepWatchOut, sweepWatchErr) = await RunAsync(null, null, "sweeps", "watch", sweepId,
            "--json");
        Assert.True(sweepWatchExit == 0, sweepWatchErr + sweepWatchOut);
        Assert.Equal("Completed",
            JsonNode.Parse(sweepWatchOut.Split('\n',
            StringSplitOptions.RemoveEmptyEntries)[^1])!["state"]!.GetValue<string>());
        var (sweepShowExit, sweepShowOut, _) = await RunAsync(null, null, "sweeps", "show", sweepId);
        Assert.Equal(0, sweepShowExit);
        Assert.True(sweepShowOut.Contains("learningRate"), sweepShowOut);   // the column of the swept parameter
        Assert.Contains("best", sweepShowOut);
        var shown = JsonNode.Parse((await RunAsync(null, null, "sweeps", "show", sweepId, "--json")).Out)!;
        Assert.Equal(shown["runs"]!.AsArray().Min(r => r!["bestValidationLoss"]!.GetValue<double>()),
            shown["best"]!["value"]!.GetValue<double>());

        // Promote, then generate (streamed) and explain through the alias.
        var (promoteExit, promoteOut, promoteErr) = await RunAsync(null, null, "models", "promote", "cli-model", "1",
            "--alias", "production");
        Assert.True(promoteExit == 0, promoteErr);
        Assert.Contains("cli-model@production → v1", promoteOut);
        Assert.Equal(1,
            (await Api.GetOkAsync(stack.Gateway, "/api/models/cli-model"))["aliases"]!["production"]!.GetValue<int>());
        var generated = await Api.EventuallyAsync(async () =>
        {
            var (exit, output, error) = await RunAsync(null, null, "generate", "cli-model@production", "ROMEO:",
                "--stream", "--max-tokens", "20", "--seed", "1");
            return new JsonObject { ["exit"] = exit, ["out"] = output, ["err"] = error };
        }, r => r["exit"]!.GetValue<int>() == 0, TimeSpan.FromMinutes(1), stack.Logs);
        Assert.True(generated["out"]!.GetValue<string>().Trim().Length > 0);
        var (explainExit, explainOut, explainErr) = await RunAsync(null, null, "explain", "cli-model@production",
            "ROMEO:");
        Assert.True(explainExit == 0, explainErr);
        Assert.Contains("Next token", explainOut);

        // Share the name with another key, then with nobody again.
        var (teammateId, _) = await Api.CreateKeyAsync(stack.Gateway, "cli-teammate", "editor");
        var (shareExit, shareOut, shareErr) = await RunAsync(null, null, "models", "share", "cli-model", teammateId);
        Assert.True(shareExit == 0, shareErr);
        Assert.Contains("shared with 1 key(s)", shareOut);
        var sharing = await Api.GetOkAsync(stack.Gateway, "/api/models/cli-model/sharing");
        Assert.Equal([teammateId], sharing["editors"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.Contains("shared with nobody", (await RunAsync(null, null, "models", "share", "cli-model")).Out);

        // Exit codes: not found 4, refused 3, invalid 5, usage 2, unreachable 6; each with the platform's reason on
        // stderr.
        var missing = await RunAsync(null, null, "runs", "show", Guid.NewGuid().ToString());
        Assert.Equal(4, missing.Exit);
        Assert.Contains("Run not found", missing.Err);
        Assert.Equal(3, (await RunAsync("plk_not_a_key", null, "runs", "ls")).Exit);
        var conflict = await RunAsync(null, null, "runs", "cancel", runId);
        Assert.Equal(5, conflict.Exit);
        Assert.Contains("cannot be cancelled", conflict.Err);
        Assert.Equal(4, (await RunAsync(null, null, "models", "promote", "cli-model", "99")).Exit);
        Assert.Equal(2, (await RunAsync(null, null, "runs", "compare", runId)).Exit);
        Assert.Equal(2,
            (await RunAsync(null, null, "datasets", "upload", Path.Combine(_home, "no-such-file.txt"))).Exit);
        Assert.Equal(6, (await RunAsync(null, null, "runs", "ls", "--url", "http://127.0.0.1:9")).Exit);
    }
    [Fact]
    public async Task The_command_line_tour_in_the_docs_runs_as_written()
    {
        var stdout = await RunTourAsync("cli-tour", "dashboard-and-cli.md");
        Assert.Contains("Signed in to", stdout);
        Assert.Contains("admin (admin, key", stdout);
        Assert.Matches(@"│ format +│ pairs", stdout);
        Assert.Contains("Run ", stdout);
        Assert.Contains("top1Accuracy", stdout);
        // Two completions, a line of dashes apart; each stopped before a blank line, or at 40 tokens.
        Assert.Contains($"{Environment.NewLine}----{Environment.NewLine}", stdout);
        Assert.Contains("# shakespeare-char v1", stdout);
        Assert.Matches(@"shakespeare-imported v1: imported from hf-gpt2", stdout);
        Assert.Contains("Signed out", stdout);
        Assert.False(File.Exists(Path.Combine(_home, "platform", "config.json")));

        // What the tour left, seen through the API: the import, and nothing learned from the deleted datasets.
        var imported = await Api.GetOkAsync(stack.Gateway, "/api/models/shakespeare-imported/versions/1");
        Assert.Equal("shakespeare-imported", imported["name"]!.GetValue<string>());
        await Api.EventuallyAnswersAsync(stack.Gateway, "/api/models/shakespeare-char", HttpStatusCode.NotFound,
            stack.Logs);
    }

    [Fact]
    public async Task The_curl_tour_in_the_docs_runs_as_written()
    {
        var stdout = await RunTourAsync("api-tour", "api.md");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("{\"state\":\"Completed\",\"step\":200,\"maxSteps\":200,"));
        Assert.Contains(lines, l => l.StartsWith("{\"state\":\"Completed\",\"figures\":{\"loss\":"));
        Assert.Contains(lines, l => l.StartsWith("{\"name\":\"api-tour-imported\",\"version\":1,"));
        Assert.Equal("{\"runs\":1,\"modelVersions\":1}", lines[^1]);
        await Api.EventuallyAnswersAsync(stack.Gateway, "/api/models/api-tour", HttpStatusCode.NotFound, stack.Logs);
    }

    /// <summary>Runs docs/examples/NAME.sh from the checkout's root with the stack's address and admin key, after
    /// checking that the page shows it as it is (the block after &lt;!-- NAME --&gt;); returns its output.</summary>
    private async Task<string> RunTourAsync(string name, string page)
    {
        var tour = Path.Combine("docs", "examples", name + ".sh");
        var docs = await File.ReadAllTextAsync(Path.Combine(PlatformStack.RepoRoot, "docs", page));
        var shown = Regex.Match(docs, $"<!-- {name} -->\n```bash\n(.*?)```", RegexOptions.Singleline);
        Assert.True(shown.Success, $"docs/{page} has no {name} block");
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(PlatformStack.RepoRoot, tour)), shown.Groups[1].Value);

        var (exit, stdout, stderr) = await Script.RunAsync(tour, new Dictionary<string, string>
        {
            ["XDG_CONFIG_HOME"] = _home,
            ["PLATFORM_URL"] = PlatformStack.GatewayAddress.ToString().TrimEnd('/'),
            ["PLATFORM_API_KEY"] = stack.AdminKey,
            ["BUILD_CONFIGURATION"] = PlatformStack.Configuration,
        }, TimeSpan.FromMinutes(8));
        Assert.True(exit == 0, $"{name} exited {exit}\n{stdout}\n{stderr}\n{stack.Logs()}");
        return stdout;
    }
}
