using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// MLflow-style tracking through the gateway: experiments, external runs that users' scripts log to, search by
/// filter, and the Python client (clients/python) driven by the docs' example training script with Debian's python3.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class TrackingTests(PlatformStack stack)
{
    private HttpClient Admin => stack.Gateway;

    private static async Task<JsonNode> CreatedAsync(HttpClient http, string path, string json)
    {
        var (status, body) = await Api.PostJsonAsync(http, path, json);
        Assert.True(status == HttpStatusCode.Created, $"{path}: {(int)status} {body}");
        return body!;
    }

    private static void AssertField(HttpStatusCode expected, (HttpStatusCode Status, JsonNode? Body) answer,
        string field, string? contains = null)
    {
        Assert.True(answer.Status == expected, $"{(int)answer.Status}: {answer.Body}");
        var messages = answer.Body!["errors"]?[field]?.AsArray().Select(m => m!.GetValue<string>()).ToList();
        Assert.True(messages is { Count: > 0 }, $"no error for {field}: {answer.Body}");
        if (contains is not null)
            Assert.Contains(messages, m => m.Contains(contains, StringComparison.Ordinal));
    }

    [Fact]
    public async Task External_runs_log_params_metrics_tags_and_files_end_and_are_found_by_filter()
    {
        var (_, aliceKey) = await Api.CreateKeyAsync(Admin, "tracking-alice", "editor");
        var (_, bobKey) = await Api.CreateKeyAsync(Admin, "tracking-bob", "editor");
        using var alice = PlatformStack.ClientWithKey(aliceKey);
        using var bob = PlatformStack.ClientWithKey(bobKey);

        // An experiment's name is the platform's: Bob cannot take it, nor put runs in Alice's.
        await CreatedAsync(alice, "/api/experiments", "{\"name\":\"track-exp\",\"description\":\"lr sweep\"}");
        Assert.Equal(HttpStatusCode.Conflict,
            (await Api.PostJsonAsync(bob, "/api/experiments", "{\"name\":\"track-exp\"}")).Status);
        AssertField(HttpStatusCode.BadRequest, await Api.PostJsonAsync(bob, "/api/runs",
            "{\"external\":true,\"name\":\"bob-run\",\"experiment\":\"track-exp\"}"), "experiment", "another key");

        // Three runs with known figures: the oracle for the searches below.
        var runs = new Dictionary<string, string>();
        foreach (var (name, lr, team, losses) in new[]
                 {
                     ("track-a", 0.001, "nlp", new[] { 2.5, 1.8 }), ("track-b", 0.01, "nlp", new[] { 2.4, 2.1 }),
                     ("track-c", 0.001, "vision", new[] { 2.2, 1.5 }),
                 })
        {
            var run = await CreatedAsync(alice, "/api/runs", $"{{\"external\":true,\"name\":\"{name}\"," +
                $"\"experiment\":\"track-exp\",\"params\":{{\"lr\":{lr}}},\"tags\":{{\"team\":\"{team}\"}}}}");
            Assert.Equal("Training", run["state"]!.GetValue<string>());
            Assert.True(run["external"]!.GetValue<bool>());
            var id = run["id"]!.GetValue<string>();
            runs[name] = id;
            var points = string.Join(",", losses.Select((l, i) =>
                $"{{\"key\":\"val_loss\",\"value\":{l},\"step\":{i * 10}}}"));
            var (logged, loggedBody) = await Api.PostJsonAsync(alice, $"/api/runs/{id}/metrics",
                $"{{\"metrics\":[{points}]}}");
            Assert.True(logged == HttpStatusCode.OK, $"{(int)logged}: {loggedBody}");
        }
        var a = runs["track-a"];

        // Parameters keep their first value; bad points are refused with the field; the run is Alice's alone.
        Assert.Equal(HttpStatusCode.OK, (await Api.PostJsonAsync(alice, $"/api/runs/{a}/params",
            "{\"params\":{\"lr\":0.001,\"optimizer\":\"adam\"}}")).Status);
        AssertField(HttpStatusCode.BadRequest, await Api.PostJsonAsync(alice, $"/api/runs/{a}/params",
            "{\"params\":{\"lr\":0.1}}"), "params.lr", "first value");
        AssertField(HttpStatusCode.BadRequest, await Api.PostJsonAsync(alice, $"/api/runs/{a}/metrics",
            "{\"metrics\":[{\"key\":\"loss\",\"value\":1,\"step\":1},{\"key\":\"loss\",\"step\":2}]}"),
            "metrics[1].value");
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(bob, $"/api/runs/{a}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.PostJsonAsync(bob, $"/api/runs/{a}/metrics",
            "{\"metrics\":[{\"key\":\"loss\",\"value\":1,\"step\":1}]}")).Status);

        // Key -> value tags: setting a key again replaces its value.
        var (tagged, taggedBody) = await Api.PostJsonAsync(alice, $"/api/runs/{a}/tags",
            "{\"tags\":{\"team\":\"nlp\",\"stage\":\"dev\"}}");
        Assert.Equal(HttpStatusCode.OK, tagged);
        Assert.Equal(["stage:dev", "team:nlp"],
            taggedBody!["tags"]!.AsArray().Select(t => t!.GetValue<string>()).Order(StringComparer.Ordinal));

        // Files under the run: listed with size and sha256, read back byte for byte; no path escapes the run.
        var bytes = Encoding.UTF8.GetBytes("step,loss\n0,2.5\n10,1.8\n");
        using (var put = new ByteArrayContent(bytes))
        {
            using var response = await alice.PutAsync($"/api/runs/{a}/artifacts/plots/loss.csv", put);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        var listed = await Api.GetOkAsync(alice, $"/api/runs/{a}/artifacts");
        Assert.Equal("plots/loss.csv", listed[0]!["path"]!.GetValue<string>());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)),
            listed[0]!["sha256"]!.GetValue<string>());
        Assert.Equal(bytes, await alice.GetByteArrayAsync($"/api/runs/{a}/artifacts/plots/loss.csv"));
        using (var escape = new ByteArrayContent(bytes))
        {
            using var response = await alice.PutAsync($"/api/runs/{a}/artifacts/..%2Fsecret", escape);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        // Search: the issue's own filter shape, the oracle being the figures logged above.
        async Task<List<string>> SearchAsync(string filter, string order = "")
        {
            var page = await Api.GetOkAsync(alice, "/api/runs/search?filter=" + Uri.EscapeDataString(filter) +
                                                   "&order_by=" + Uri.EscapeDataString(order));
            return [.. page["items"]!.AsArray().Select(r => r!["name"]!.GetValue<string>())
                .Where(n => n.StartsWith("track-", StringComparison.Ordinal))];
        }
        Assert.Equal(["track-a"], await SearchAsync(
            "metrics.val_loss < 1.9 and params.lr = 0.001 and tags.team = \"nlp\""));
        Assert.Equal(["track-c", "track-a", "track-b"],
            await SearchAsync("attributes.experiment = 'track-exp'", "metrics.val_loss ASC"));
        Assert.Equal(["track-b", "track-a"], await SearchAsync("tags.team LIKE 'n%'", "params.lr DESC"));
        var bobs = await Api.GetOkAsync(bob, "/api/runs/search?filter=" +
            Uri.EscapeDataString("attributes.experiment = 'track-exp'"));
        Assert.Empty(bobs["items"]!.AsArray());
        AssertField(HttpStatusCode.BadRequest, await Api.GetAsync(alice,
            "/api/runs/search?filter=" + Uri.EscapeDataString("metrics.val_loss lt 1.9")), "filter",
            "at position 17: expected a comparator");
        AssertField(HttpStatusCode.BadRequest, await Api.GetAsync(alice,
            "/api/runs/search?order_by=" + Uri.EscapeDataString("metrics.val_loss UP")), "order_by", "at position 17");

        // The dashboard's runs list searches with the same syntax, and shows where a filter went wrong.
        var (playwright, browser) = await DashboardTests.LaunchAsync();
        using (playwright)
        await using (browser)
        {
            // The test waits on page state with script, which the dashboard's CSP would refuse.
            var page = await DashboardTests.SignedInPageAsync(browser, aliceKey, bypassCsp: true);
            await page.GotoAsync(PlatformStack.GatewayAddress + "#/runs");
            await page.FillAsync("#f-search", "attributes.experiment = 'track-exp' and metrics.val_loss < 1.9");
            await page.PressAsync("#f-search", "Enter");
            await DashboardTests.WaitAsync(page, "document.querySelectorAll('#runs-table tr').length === 3");
            var found = await page.Locator("#runs-table tr td:nth-child(2)").AllTextContentsAsync();
            Assert.Equal(["track-a", "track-c"], found.Order(StringComparer.Ordinal));
            await page.FillAsync("#f-search", "metrics.val_loss lt 1.9");
            await page.PressAsync("#f-search", "Enter");
            await page.WaitForSelectorAsync("#runs-table .problem");
            Assert.Contains("at position 17", await page.TextContentAsync("#runs-table"));
        }

        // The experiment counts the runs its reader may see.
        Assert.Equal(3, (await Api.GetOkAsync(alice, "/api/experiments/track-exp"))["runs"]!.GetValue<int>());

        // Ended: no more logging; the platform never trains it, and it cannot be resumed.
        var (ended, endedBody) = await Api.PostJsonAsync(alice, $"/api/runs/{a}/end", "{\"state\":\"Completed\"}");
        Assert.Equal(HttpStatusCode.OK, ended);
        Assert.Equal("Completed", endedBody!["state"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await Api.PostJsonAsync(alice, $"/api/runs/{a}/metrics",
            "{\"metrics\":[{\"key\":\"loss\",\"value\":1,\"step\":99}]}")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await Api.PostJsonAsync(alice, $"/api/runs/{a}/resume", "{}")).Status);
        var series = await Api.GetOkAsync(alice, $"/api/runs/{a}/metrics?keys=val_loss");
        Assert.Equal([2.5, 1.8], series["series"]![0]!["points"]!.AsArray()
            .Select(p => p!["value"]!.GetValue<double>()));
    }

    [Fact]
    public async Task The_docs_training_script_logs_a_run_with_the_python_client_and_registers_a_served_model()
    {
        // The docs show the script as it is.
        var script = Path.Combine(PlatformStack.RepoRoot, "docs", "examples", "train_tiny.py");
        var shown = Regex.Match(await File.ReadAllTextAsync(Path.Combine(PlatformStack.RepoRoot, "docs",
            "tracking.md")), "<!-- train-tiny -->\n```python\n(.*?)```", RegexOptions.Singleline);
        Assert.True(shown.Success, "docs/tracking.md does not show the script");
        Assert.Equal(await File.ReadAllTextAsync(script), shown.Groups[1].Value);

        var (_, key) = await Api.CreateKeyAsync(Admin, "tracking-script", "editor");
        var work = Directory.CreateTempSubdirectory("tracking-").FullName;
        try
        {
            var corpus = Path.Combine(work, "corpus.txt");
            await File.WriteAllTextAsync(corpus, Api.DemoCorpus[..20_000]);
            var (exit, output, error) = await Script.RunProgramAsync("/usr/bin/python3",
                [script, corpus, "tiny-bigram"], new Dictionary<string, string>
                {
                    ["PLATFORM_URL"] = PlatformStack.GatewayAddress.ToString(),
                    ["PLATFORM_API_KEY"] = key,
                }, TimeSpan.FromMinutes(2), work);
            Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
            var printed = Regex.Match(output, @"run (\S+): registered tiny-bigram v(\d+)");
            Assert.True(printed.Success, output);

            // The run, seen through the API: the script's parameters, tags, falling loss, files and version.
            using var user = PlatformStack.ClientWithKey(key);
            var run = await Api.GetOkAsync(user, $"/api/runs/{printed.Groups[1].Value}");
            Assert.Equal("Completed", run["state"]!.GetValue<string>());
            Assert.Equal("300", run["params"]!["steps"]!.GetValue<string>());
            Assert.Contains("team:nlp", run["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
            Assert.Equal(int.Parse(printed.Groups[2].Value), run["modelVersion"]!.GetValue<int>());
            var losses = (await Api.GetOkAsync(user, $"/api/runs/{run["id"]}/metrics?keys=val_loss"))["series"]![0]!
                ["points"]!.AsArray().Select(p => p!["value"]!.GetValue<double>()).ToList();
            Assert.Equal(13, losses.Count);
            Assert.True(losses[^1] < losses[0] - 0.5, $"validation loss went {losses[0]} → {losses[^1]}");
            var files = (await Api.GetOkAsync(user, $"/api/runs/{run["id"]}/artifacts")).AsArray()
                .Select(f => f!["path"]!.GetValue<string>());
            Assert.Equal(["config.json", "model.safetensors", "tokenizer.json"], files);

            // The dashboard shows the script's run: what it logged, its files, and that a script logged it.
            var (playwright, browser) = await DashboardTests.LaunchAsync();
            using (playwright)
            await using (browser)
            {
                var page = await DashboardTests.SignedInPageAsync(browser, key);
                await page.GotoAsync(PlatformStack.GatewayAddress + $"#/runs/{run["id"]}");
                await page.WaitForSelectorAsync("#run-files");
                Assert.Contains("logged by a script", await page.TextContentAsync("#run-external"));
                // A figure the run does not have (its epoch) is left out, not written as "null".
                Assert.DoesNotContain("null", await page.TextContentAsync("#run-stats"));
                var shownParams = await page.TextContentAsync("#run-params");
                Assert.Contains("steps", shownParams);
                Assert.Contains("300", shownParams);
                Assert.Equal(3, await page.Locator("#run-files tr").CountAsync() - 1);
                Assert.Contains("team:nlp", await page.TextContentAsync("#run-tags"));
                Assert.Equal(0, await page.Locator("#resume").CountAsync());
                await DashboardTests.ShotAsync(page, "external-run");
            }

            // Generation serves the registered version.
            var (generated, text) = await Api.PostJsonAsync(user, "/api/generate",
                $"{{\"model\":\"tiny-bigram/versions/{printed.Groups[2].Value}\",\"prompt\":\"ROMEO:\"," +
                "\"maxTokens\":20,\"seed\":1}");
            Assert.True(generated == HttpStatusCode.OK, $"{(int)generated}: {text}");
            Assert.False(string.IsNullOrEmpty(text!["text"]!.GetValue<string>()));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
