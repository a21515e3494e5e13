using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright through its executable path (no
/// browser download), against the running stack through the gateway. With PLATFORM_SCREENSHOTS=1 the main pages are
/// saved under docs/screenshots (docs/dashboard-and-cli.md shows them); otherwise to a temporary folder.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class DashboardTests(PlatformStack stack)
{
    private static readonly string Chromium = Environment.GetEnvironmentVariable("PLATFORM_CHROMIUM")
        ?? "/usr/bin/chromium";
    private static readonly string Screenshots = Environment.GetEnvironmentVariable("PLATFORM_SCREENSHOTS") == "1"
        ? Path.Combine(PlatformStack.RepoRoot, "docs", "screenshots")
        : Path.Combine(Path.GetTempPath(), "platform-screenshots");
    private const float Timeout = 240_000;

    private HttpClient Http => stack.Gateway;

    /// <summary>What the pages logged as errors, for the failure message.</summary>
    private static readonly StringBuilder BrowserLog = new();

    internal static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: infra/setup.sh --test installs Debian's chromium");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // Root in CI has no user namespaces for Chromium's sandbox.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
        return (playwright, browser);
    }

    /// <param name="bypassCsp">Lets the test inject axe-core, which the dashboard's own policy (script-src 'self')
    /// refuses, as it should.</param>
    internal static async Task<IPage> SignedInPageAsync(IBrowser browser, string key, bool bypassCsp = false)
    {
        var context = await browser.NewContextAsync(
            new BrowserNewContextOptions
            {
                ViewportSize = new ViewportSize { Width = 1280, Height = 860 },
                Locale = "en-GB",
                BypassCSP = bypassCsp,
            });
        context.SetDefaultTimeout(Timeout);
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
            {
                if (message.Type is "error" or "warning")
                    lock (BrowserLog)
                        BrowserLog.AppendLine(
                $"console {message.Type}: {message.Text}");
            };
        page.PageError += (_, error) => { lock (BrowserLog) BrowserLog.AppendLine("page error: " + error); };
        await page.GotoAsync(PlatformStack.GatewayAddress.ToString());
        await page.FillAsync("#login-key", key);
        await page.ClickAsync("#login-submit");
        await page.WaitForSelectorAsync("#top:not([hidden])");
        return page;
    }

    internal static Task ShotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots);
        return page.ScreenshotAsync(new PageScreenshotOptions
        {
            Path = Path.Combine(Screenshots, name + ".png"),
            FullPage = false
        });
    }

    /// <summary>Waits for a condition in the page; on timeout, fails with what the page shows and logged, and a
    /// screenshot.</summary>
    internal static async Task WaitAsync(IPage page, string expression, object? argument = null)
    {
        try
        {
            await page.WaitForFunctionAsync(expression, argument, new PageWaitForFunctionOptions { Timeout = Timeout });
        }
        catch (TimeoutException)
        {
            await ShotAsync(page, "failed");
            Assert.Fail($"timed out waiting for {expression} at " +
                $"{page.Url}:\n{await page.TextContentAsync("#view")}\n{BrowserLog}");
        }
    }

    private static readonly string Axe = Path.Combine(PlatformStack.RepoRoot, "tests", "Platform.EndToEnd.Tests",
        "vendor", "axe-core", "axe.min.js");

    /// <summary>Runs axe-core (vendored for the tests) on the page as it is: no serious or critical violation of
    /// WCAG 2 A and AA, or the failure lists each with the elements it found.</summary>
    internal static async Task AssertAccessibleAsync(IPage page, string view)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof axe !== 'undefined'"))
            await page.AddScriptTagAsync(new PageAddScriptTagOptions { Path = Axe });
        var violations = await page.EvaluateAsync<System.Text.Json.JsonElement>(
            "async () => (await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }))" +
            ".violations.filter(v => v.impact === 'serious' || v.impact === 'critical')" +
            ".map(v => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.slice(0, 4).map(n => n.target.join(' '))" +
            ".join(' | ')}`)");
        Assert.True(violations.GetArrayLength() == 0, $"{view}:\n{string.Join("\n", violations.EnumerateArray())}");
    }

    /// <summary>The interface's own words still in English on a page shown in Chinese: the text of headings, table
    /// headers, labels, buttons and summaries (not what they hold: names, options and data stay as written).</summary>
    private static Task<string[]> EnglishLeftAsync(IPage page) => page.EvaluateAsync<string[]>("""
        () => [...document.querySelectorAll(
            'header a, header button, #view h1, #view h2, #view th, #view label, #view button, summary')]
          .flatMap(e => [...e.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent.trim()))
          .filter(text => /[A-Za-z]{3,}/.test(text.replace(/\b(API|JSON|English|Top-[15]|top-[kp])\b/g, '')))
        """);

    [Fact]
    public async Task Every_view_passes_axe_core_in_both_languages()
    {
        var (playwright, browser) = await LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { BypassCSP = true }))
            .NewPageAsync();
        await page.GotoAsync(PlatformStack.GatewayAddress.ToString());
        await page.WaitForSelectorAsync("#login-key");
        await AssertAccessibleAsync(page, "sign-in");
        page = await SignedInPageAsync(browser, stack.AdminKey, bypassCsp: true);
        var english = new List<string>();
        foreach (var language in new[] { "en", "zh" })
        {
            if (language == "zh")
                await page.ClickAsync("#language");
            foreach (var view in new[] { "datasets", "runs", "models", "playground", "chat", "attention", "sweeps",
                "evaluations", "keys", "audit" })
            {
                await page.GotoAsync(PlatformStack.GatewayAddress + "#/" + view);
                await WaitAsync(page, "() => document.querySelector('#view h1') && " +
                    "!document.querySelector('#view').textContent.includes('Loading…')");
                await AssertAccessibleAsync(page, $"{view} ({language})");
                if (language == "zh")
                    english.AddRange((await EnglishLeftAsync(page)).Select(text => $"{view}: {text}"));
            }
        }
        Assert.Empty(english);
        // The check can fail: an image without a text alternative is a critical violation.
        await page.EvaluateAsync("() => document.getElementById('view').append(document.createElement('img'))");
        var failed = await Assert.ThrowsAnyAsync<Exception>(() => AssertAccessibleAsync(page, "control"));
        Assert.Contains("image-alt", failed.Message);
    }

    private static Task<int> PointsAsync(IPage page, string chart) =>
        page.EvalOnSelectorAsync<int>(chart, "e => +(e.dataset.points || 0)");

    [Fact]
    public async Task A_run_is_estimated_refused_with_advice_and_started_in_epochs_from_the_form()
    {
        var datasetId = await Api.TokenizedDatasetAsync(Http, Api.DemoCorpus[..20_000], "form-data",
            TimeSpan.FromMinutes(2), stack.Logs);
        var (playwright, browser) = await LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await SignedInPageAsync(browser, stack.AdminKey);
        await page.GotoAsync(PlatformStack.GatewayAddress + "#/runs");
        await page.ClickAsync("#run-form summary");
        await page.SelectOptionAsync("#rf-dataset", datasetId);
        await page.FillAsync("#rf-name", "form-run");

        // Too big for the worker: the estimate says so with what would fit, and starting it is refused the same way.
        await page.FillAsync("#rf-layers", "48");
        await page.FillAsync("#rf-width", "4096");
        await page.FillAsync("#rf-heads", "32");
        await page.FillAsync("#rf-block", "1024");
        await page.ClickAsync("#rf-estimate");
        await WaitAsync(page, "() => document.querySelector('#rf-figures') && " +
            "document.querySelectorAll('#rf-result .advice li').length > 0");
        Assert.Contains("✗", await page.TextContentAsync("#rf-figures"));
        await page.ClickAsync("#rf-start");
        await WaitAsync(page, "() => document.querySelector('#rf-result .problem[data-status=\"422\"] .advice li')");
        await ShotAsync(page, "run-form-refused");

        // A small one, for one epoch: estimated, then started, and its page counts the epoch.
        await page.FillAsync("#rf-layers", "1");
        await page.FillAsync("#rf-width", "32");
        await page.FillAsync("#rf-heads", "2");
        await page.FillAsync("#rf-block", "32");
        await page.SelectOptionAsync("#rf-unit", "epochs");
        await page.FillAsync("#rf-length", "1");
        await page.ClickAsync("#rf-estimate");
        await WaitAsync(page, "() => (document.querySelector('#rf-figures') || {}).textContent?.includes('✓')");
        await ShotAsync(page, "run-form");
        await page.ClickAsync("#rf-start");
        await WaitAsync(page, "() => location.hash.startsWith('#/runs/') && " +
            "document.getElementById('run-state')?.textContent === 'Completed'");
        Assert.Equal("1 / 1", await page.TextContentAsync("#run-epoch"));

        // Any series the run recorded can be charted (the epoch's marker among them), and a chart reads out its values.
        await WaitAsync(page,
            "() => [...document.querySelectorAll('#metric-key option')].some(o => o.value === 'epoch')");
        await page.SelectOptionAsync("#metric-key", "grad_norm");
        await WaitAsync(page, "() => +(document.getElementById('metric-chart').dataset.points || 0) > 0");
        var chart = (await page.QuerySelectorAsync("#loss-chart"))!;
        var box = (await chart.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync((float)(box.X + box.Width * 0.6), (float)(box.Y + box.Height / 2));
        await WaitAsync(page, "() => (document.getElementById('loss-chart').dataset.hover || '').startsWith('step ')");
        var raw = await page.EvalOnSelectorAsync<string>("#loss-chart polyline", "e => e.getAttribute('points')");
        await page.EvalOnSelectorAsync("#smoothing",
            "e => { e.value = '0.9'; e.dispatchEvent(new Event('input')); }");
        Assert.NotEqual(raw,
            await page.EvalOnSelectorAsync<string>("#loss-chart polyline", "e => e.getAttribute('points')"));
        var parameters = await page.TextContentAsync("#view table");
        Assert.Contains("training.epochs", parameters);
        Assert.DoesNotContain("nEncoderLayer", parameters);
    }

    [Fact]
    public async Task Sweeps_evaluations_keys_and_the_audit_log_have_views_and_only_admins_see_keys()
    {
        var datasetId = await Api.TokenizedDatasetAsync(Http, Api.DemoCorpus[..20_000], "views-data",
            TimeSpan.FromMinutes(2), stack.Logs);
        var (sweepStatus, sweep) = await Api.PostJsonAsync(Http, "/api/sweeps",
            $"{{\"datasetId\":\"{datasetId}\",\"base\":{{\"name\":\"views-sweep\",\"model\":{{\"nLayer\":1," +
            "\"nHead\":2,\"nEmbd\":32,\"blockSize\":32},\"training\":{\"maxSteps\":20,\"batchSize\":8," +
            "\"evalInterval\":10,\"evalIters\":2}},\"grid\":{\"training.learningRate\":[0.001,0.01]}}");
        Assert.True(sweepStatus == HttpStatusCode.Accepted, $"{(int)sweepStatus}: {sweep}");
        var sweepId = sweep!["id"]!.GetValue<string>();

        var (playwright, browser) = await LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await SignedInPageAsync(browser, stack.AdminKey);

        // The sweep, live until it ends, with the swept parameter as a column and its best run marked.
        await page.GotoAsync(PlatformStack.GatewayAddress + "#/sweeps");
        await page.ClickAsync($"#sweeps-table a[href='#/sweeps/{sweepId}']");
        await WaitAsync(page, "() => document.getElementById('sweep-state')?.textContent === 'Completed'");
        await WaitAsync(page, "() => document.querySelector('#sweep-runs tr.best')");
        Assert.Contains("training.learningRate", await page.TextContentAsync("#sweep-runs"));
        await ShotAsync(page, "sweep");

        // An evaluation of the best run's version on the same dataset, requested here and followed to its figures.
        var version = (await Api.GetOkAsync(Http, "/api/models/views-sweep"))["latestVersion"]!.GetValue<int>();
        await Api.EventuallyAsync(() => Api.GetOkAsync(Http, "/v1/models"),
            m => m["data"]!.AsArray().Any(v => v!["id"]!.GetValue<string>() == "views-sweep"),
            TimeSpan.FromSeconds(30), stack.Logs);
        await page.GotoAsync(PlatformStack.GatewayAddress + "#/evaluations");
        await page.SelectOptionAsync("#ev-model", "views-sweep");
        await page.SelectOptionAsync("#ev-dataset", datasetId);
        await page.ClickAsync("#ev-request");
        await WaitAsync(page, "() => document.getElementById('ev-state')?.textContent === 'Completed'");
        Assert.Contains("top1Accuracy", await page.TextContentAsync("#ev-figures"));
        Assert.Contains($"views-sweep v{version}", await page.TextContentAsync("#view h1"));
        await ShotAsync(page, "evaluation");

        // A key created here: its secret is shown once and works; revoked here, it no longer does.
        await page.GotoAsync(PlatformStack.GatewayAddress + "#/keys");
        await page.FillAsync("#key-name", "dashboard-made");
        await page.SelectOptionAsync("#key-role", "viewer");
        await page.ClickAsync("#key-create");
        await WaitAsync(page, "() => document.getElementById('key-value')");
        var secret = (await page.TextContentAsync("#key-value"))!.Trim();
        using var made = new HttpClient { BaseAddress = PlatformStack.GatewayAddress };
        made.DefaultRequestHeaders.Authorization = new("Bearer", secret);
        Assert.Equal(HttpStatusCode.OK, (await made.GetAsync("/api/keys/me")).StatusCode);
        await ShotAsync(page, "keys");
        var keys = await Api.GetOkAsync(Http, "/api/keys?limit=1000");
        Assert.DoesNotContain(secret, keys.ToJsonString());
        var keyId = keys["items"]!.AsArray().Single(k => k!["name"]!.GetValue<string>() == "dashboard-made")!["id"]!
            .GetValue<string>();
        await page.ClickAsync($"#keys-table tr[data-id='{keyId}'] button.revoke");
        await WaitAsync(page, $"() => !document.querySelector(\"#keys-table tr[data-id='{keyId}'] button.revoke\")");
        Assert.Equal(HttpStatusCode.Unauthorized, (await made.GetAsync("/api/keys/me")).StatusCode);

        // The audit log holds both writes; a viewer sees neither admin view in the header, and the API refuses it.
        await page.GotoAsync(PlatformStack.GatewayAddress + "#/audit");
        await WaitAsync(page, "() => document.querySelectorAll('#audit-table tr').length > 2");
        var audit = await page.TextContentAsync("#audit-table");
        Assert.Contains("POST /api/keys", audit);
        Assert.Contains($"DELETE /api/keys/{keyId}", audit);
        await ShotAsync(page, "audit");
        var (_, viewerKey) = await Api.CreateKeyAsync(Http, "views-viewer", "viewer");
        var viewer = await SignedInPageAsync(browser, viewerKey);
        Assert.False(await viewer.IsVisibleAsync("header a[href='#/keys']"));
        Assert.False(await viewer.IsVisibleAsync("header a[href='#/audit']"));
        Assert.True(await viewer.IsVisibleAsync("header a[href='#/sweeps']"));
    }

    [Fact]
    public async Task A_person_uploads_watches_a_run_moves_an_alias_streams_completions_and_a_viewer_is_refused()
    {
        var (playwright, browser) = await LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await SignedInPageAsync(browser, stack.AdminKey);
        Assert.Contains("(admin)", await page.TextContentAsync("#who"));

        // Upload by the file chooser (the drop zone's input), with auto-train: the progress bar fills and the run is
        // linked.
        await page.GotoAsync(PlatformStack.GatewayAddress + "#/datasets");
        await page.SetInputFilesAsync("#file",
            new FilePayload
            {
                Name = "shakespeare.txt",
                MimeType = "text/plain",
                Buffer = Encoding.UTF8.GetBytes(Api.DemoCorpus[..60_000])
            });
        await page.FillAsync("#ds-name", "browser-corpus");
        await page.CheckAsync("#ds-autotrain");
        await page.FillAsync("#ds-steps", "1500");
        await page.ClickAsync("#ds-upload");
        try
        {
            await page.WaitForSelectorAsync("#ds-run-link, #ds-result .problem",
                new PageWaitForSelectorOptions { Timeout = 60_000 });
        }
        catch (TimeoutException)
        {
            await ShotAsync(page, "failed-upload");
            Assert.Fail($"no answer to the upload shown: {await page.TextContentAsync("#view")}\n{BrowserLog}");
        }
        Assert.True(await page.Locator("#ds-run-link").CountAsync() == 1, await page.TextContentAsync("#ds-result")
            + "\n" + BrowserLog);
        Assert.Equal(1.0, await page.EvalOnSelectorAsync<double>("#ds-progress", "e => e.value"));
        await page.WaitForSelectorAsync("#datasets-table td:text('browser-corpus')");
        await ShotAsync(page, "datasets");

        // The run's chart grows while it trains, pushed by the platform (the page does not poll).
        await page.ClickAsync("#ds-run-link");
        await WaitAsync(page,
            "() => document.getElementById('run-state')?.textContent === 'Training' && " +
            "+document.getElementById('loss-chart').dataset.points > 0");
        var before = await PointsAsync(page, "#loss-chart");
        await WaitAsync(page,
            "n => +document.getElementById('loss-chart').dataset.points > n && " +
            "document.getElementById('run-state').textContent === 'Training'", before);
        Assert.True(await PointsAsync(page, "#loss-chart") > before);
        await WaitAsync(page, "() => document.getElementById('run-state').textContent === 'Completed'");
        // What a run does not have (an epoch, a script) is left out, not written as "null".
        Assert.DoesNotContain("null", await page.TextContentAsync("#view"));
        await ShotAsync(page, "run");
        var runId = page.Url.Split('/')[^1];
        var run = await Api.GetOkAsync(Http, $"/api/runs/{runId}");
        var model = run["name"]!.GetValue<string>();

        // An admin moves the alias; the API agrees.
        await page.GotoAsync(PlatformStack.GatewayAddress + $"#/models/{model}");
        await page.FillAsync("#alias-name", "production");
        await page.SelectOptionAsync("#alias-version", run["modelVersion"]!.ToString());
        await page.ClickAsync("#alias-move");
        await page.WaitForSelectorAsync(".alias-badge[data-alias='production']");
        Assert.Equal(run["modelVersion"]!.GetValue<int>(),
            (await Api.GetOkAsync(Http, $"/api/models/{model}"))["aliases"]!["production"]!.GetValue<int>());
        await ShotAsync(page, "models");

        // Its weights download from the page: safetensors with the platform's tensor names.
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#versions-table button.secondary"));
        Assert.EndsWith(".safetensors", download.SuggestedFilename);
        var bytes = await File.ReadAllBytesAsync((await download.PathAsync())!);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)BitConverter.ToUInt64(bytes, 0));
        Assert.Contains("transformer.wte.weight", header);
        // And as a Hugging Face folder: a zip with GPT-2's config and a model card.
        await page.SelectOptionAsync("#export-format", "hf");
        var folder = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#versions-table button.secondary"));
        Assert.EndsWith("-hf.zip", folder.SuggestedFilename);
        using (var zip = System.IO.Compression.ZipFile.OpenRead((await folder.PathAsync())!))
            Assert.Contains(zip.Entries, e => e.FullName == "config.json");

        // The playground streams a completion from name@alias, then colours each token by its probability; a click
        // shows alternatives.
        await Api.EventuallyAsync(async () =>
            JsonValue.Create((await Api.GetOkAsync(Http, "/v1/models"))["data"]!.AsArray().Any(m =>
            m!["id"]!.GetValue<string>() == $"{model}@production")),
            listed => listed.GetValue<bool>(), TimeSpan.FromMinutes(1), stack.Logs);
        await page.GotoAsync(PlatformStack.GatewayAddress + "#/playground");
        await page.SelectOptionAsync("#pg-model", $"{model}@production");
        await page.FillAsync("#pg-prompt", "ROMEO:");
        await page.FillAsync("#pg-seed", "7");
        await page.ClickAsync("#pg-generate");
        await page.WaitForSelectorAsync("#pg-output[data-done='true']");
        Assert.True(await page.Locator("#pg-problem .problem").CountAsync() == 0,
            await page.TextContentAsync("#pg-problem") + "\n" + BrowserLog);
        Assert.True(int.Parse(await page.GetAttributeAsync("#pg-output", "data-chunks") ?? "0") > 1,
            "the completion did not arrive in several chunks");
        // The coloured tokens (and any tail beyond the explained window) are exactly the streamed completion.
        Assert.Equal(await page.GetAttributeAsync("#pg-output", "data-text"),
            await page.TextContentAsync("#pg-completion"));
        var tokens = page.Locator("#pg-completion .token");
        Assert.True(await tokens.CountAsync() > 0);
        var probability = double.Parse((await tokens.First.GetAttributeAsync("data-prob"))!,
            System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(probability, 0, 1);
        await tokens.Filter(new LocatorFilterOptions { HasTextRegex = new System.Text.RegularExpressions.Regex(@"\S") })
            .First.ClickAsync();
        Assert.Equal(5, await page.Locator("#pg-alternatives tr").CountAsync());
        await ShotAsync(page, "playground");

        // Attention: a heatmap of prompt × prompt for a layer and head, and saliency per prompt token.
        await page.GotoAsync(PlatformStack.GatewayAddress + "#/attention");
        await page.SelectOptionAsync("#at-model", $"{model}@production");
        await page.FillAsync("#at-prompt", "ROMEO:");
        await page.ClickAsync("#at-explain");
        await page.WaitForSelectorAsync("#at-heatmap .cell");
        Assert.Equal(36, await page.Locator("#at-heatmap .cell").CountAsync());   // 6 characters, each attending over 6
        Assert.Equal(6, await page.Locator("#at-saliency span[title]").CountAsync());
        await ShotAsync(page, "attention");

        // Chinese: a model trained on Chinese text answers a Chinese prompt, and the page shows it as written (UI in
        // Chinese too).
        var chinese = string.Concat(Enumerable.Repeat("春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。床前明月光，疑是地上霜。举头望明月，低头思故乡。", 60));
        var (uploaded, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(chinese), "browser-chinese",
            tokenizer: "char");
        Assert.Equal(HttpStatusCode.Accepted, uploaded);
        await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{dataset!["id"]}"), d =>
            d["state"]!.GetValue<string>() == "Tokenized", TimeSpan.FromMinutes(2), stack.Logs);
        var chineseRun = await Api.TrainToEndAsync(Http,
            $"{{\"datasetId\":\"{dataset!["id"]}\",\"name\":\"browser-chinese\",\"model\":{{\"nLayer\":1," +
            $"\"nHead\":2,\"nEmbd\":32,\"blockSize\":32}},\"training\":{{\"maxSteps\":300," +
            $"\"batchSize\":16,\"learningRate\":0.01,\"evalInterval\":150,\"evalIters\":2}}}}",
            stack.Logs);
        await Api.EventuallyAsync(async () =>
            JsonValue.Create((await Api.GetOkAsync(Http, "/v1/models"))["data"]!.AsArray().Any(m =>
            m!["id"]!.GetValue<string>() == "browser-chinese")),
            listed => listed.GetValue<bool>(), TimeSpan.FromMinutes(1), stack.Logs);
        await page.ClickAsync("#language");
        await page.WaitForSelectorAsync("header nav a:text('数据集')");
        await page.GotoAsync(PlatformStack.GatewayAddress + "#/playground");
        await page.SelectOptionAsync("#pg-model", "browser-chinese");
        await page.FillAsync("#pg-prompt", "春眠不觉晓，");
        await page.FillAsync("#pg-temperature", "0.5");
        await page.FillAsync("#pg-seed", "3");
        await page.ClickAsync("#pg-generate");
        await page.WaitForSelectorAsync("#pg-output[data-done='true']");
        var completion = await page.TextContentAsync("#pg-completion") ?? "";
        Assert.True(completion.Count(c => c is >= '\u4e00' and <= '\u9fff') >= 5,
            $"no Chinese in the completion: {completion}");
        Assert.Equal("春眠不觉晓，", await page.TextContentAsync("#pg-output .prompt"));
        await ShotAsync(page, "playground-zh");
        await page.ClickAsync("#language");

        // Two runs compared: overlaid curves and the parameters that differ.
        await page.GotoAsync(PlatformStack.GatewayAddress + $"#/compare?ids={runId},{chineseRun["id"]}");
        await page.WaitForSelectorAsync("#cmp-params tr.differs");
        Assert.True(await PointsAsync(page, "#cmp-chart") > 0);
        await ShotAsync(page, "compare");
        await page.GotoAsync(PlatformStack.GatewayAddress + "#/runs");
        await page.WaitForSelectorAsync("#runs-table table");
        await ShotAsync(page, "runs");

        // A viewer may look but not upload: the refusal is explained, not dumped.
        var (_, viewerKey) = await Api.CreateKeyAsync(Http, "browser-viewer", "viewer");
        var viewer = await SignedInPageAsync(browser, viewerKey);
        await viewer.GotoAsync(PlatformStack.GatewayAddress + "#/datasets");
        await viewer.SetInputFilesAsync("#file",
            new FilePayload
            {
                Name = "mine.txt",
                MimeType = "text/plain",
                Buffer = Encoding.UTF8.GetBytes(Api.DemoCorpus[..2_000])
            });
        await viewer.ClickAsync("#ds-upload");
        var refusal = viewer.Locator("#ds-result .problem[data-status='403']");
        await refusal.WaitForAsync();
        var text = await refusal.TextContentAsync() ?? "";
        Assert.Contains("You do not have permission", text);
        Assert.Contains("viewer", text);
        Assert.DoesNotContain("{", text);
        Assert.Empty(await viewer.Locator("#cancel").AllAsync());

        // The admin's dataset is private until shared: the viewer does not see it, and no share button either; the
        // admin shares it from the list, and then the viewer sees it.
        var chineseRow = $"#datasets-table tr[data-id='{dataset["id"]}']";
        await viewer.WaitForSelectorAsync("#datasets-table > :is(table, p)");
        Assert.Equal(0, await viewer.Locator(chineseRow).CountAsync());
        Assert.Equal(0, await viewer.Locator("#datasets-table button.share").CountAsync());
        await page.GotoAsync(PlatformStack.GatewayAddress + "#/datasets");
        await page.Locator(chineseRow + " button.share").ClickAsync();
        await page.WaitForSelectorAsync(chineseRow + " button.share:has-text('Make private')");
        using (var viewerApi = PlatformStack.ClientWithKey(viewerKey))
            Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(viewerApi, $"/api/datasets/{dataset["id"]}")).Status);
        await viewer.GotoAsync(PlatformStack.GatewayAddress + "#/runs");
        await viewer.GotoAsync(PlatformStack.GatewayAddress + "#/datasets");
        try
        {
            await viewer.WaitForSelectorAsync(chineseRow + " td.sharing:has-text('every key')");
        }
        catch (TimeoutException)
        {
            await ShotAsync(viewer, "viewer-datasets");
            var listed = await viewer.InnerTextAsync("#datasets-table");
            throw new Xunit.Sdk.XunitException($"not listed to the viewer: {listed}");
        }
    }
}
