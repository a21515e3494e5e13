using System.Globalization;
using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Platform.Cli;

public static class RunsCommands
{
    public static Command Create(GlobalOptions globals)
    {
        var state = new Option<string?>("--state")
        {
            Description = "Only runs in this state (Queued, Training, " +
            "Completed, …)"
        };
        var name = new Option<string?>("--name") { Description = "Only runs of this model name" };
        var tag = new Option<string?>("--tag") { Description = "Only runs with this tag" };
        var limit = new Option<int>("--limit") { Description = "How many (1-1000)", DefaultValueFactory = _ => 50 };
        var list = new Command("ls", "List runs, newest first") { state, name, tag, limit };
        list.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var query = $"limit={result.GetValue(limit)}";
            foreach (var (option, field) in new[] { (state, "state"), (name, "name"), (tag, "tag") })
                if (result.GetValue(option) is { Length: > 0 } value)
                    query += $"&{field}={Uri.EscapeDataString(value)}";
            var page = await client.GetAsync("/api/runs?" + query, cancellationToken);
            if (globals.WantsJson(result))
            {
                GlobalOptions.Print(page);
                return ExitCodes.Ok;
            }
            var table = GlobalOptions.Table("Id", "Name", "State", "Step", "Best val loss", "Tags", "Created");
            foreach (var r in page!["items"]!.AsArray())
                GlobalOptions.Row(table, r!["id"], r["name"], r["state"], $"{r["step"]}/{r["maxSteps"]}",
                    r["bestValidationLoss"],
                    string.Join(",", r["tags"]?.AsArray().Select(t => t!.ToString()) ?? []), r["createdAt"]);
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));

        var filter = new Argument<string>("filter")
        {
            Description = "MLflow's syntax: 'metrics.val_loss < 1.9 and params.training.learningRate = 0.001 and " +
                          "tags.team = \"nlp\"' (docs/tracking.md)",
            DefaultValueFactory = _ => "",
        };
        var orderBy = new Option<string?>("--order-by")
        {
            Description = "Terms apart by commas, each ASC or DESC: 'metrics.val_loss ASC'",
        };
        var search = new Command("search", "Find runs by a filter of metrics, parameters, tags and attributes")
        {
            filter, orderBy, limit,
        };
        search.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var query = $"limit={result.GetValue(limit)}&filter={Uri.EscapeDataString(result.GetValue(filter) ?? "")}" +
                        $"&order_by={Uri.EscapeDataString(result.GetValue(orderBy) ?? "")}";
            var page = await client.GetAsync("/api/runs/search?" + query, cancellationToken);
            if (globals.WantsJson(result))
            {
                GlobalOptions.Print(page);
                return ExitCodes.Ok;
            }
            var table = GlobalOptions.Table("Id", "Name", "State", "Step", "Val loss", "Tags", "Created");
            foreach (var r in page!["items"]!.AsArray())
                GlobalOptions.Row(table, r!["id"], r["name"], r["state"], r["step"], r["latestValidationLoss"],
                    string.Join(",", r["tags"]?.AsArray().Select(t => t!.ToString()) ?? []), r["createdAt"]);
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));

        var specFile = new Argument<FileInfo>("spec")
        {
            Description = "A run spec (JSON: name, model, training, …; docs/examples/spec.json)",
        };
        var dataset = new Option<Guid?>("--dataset") { Description = "The dataset to train on (else the spec's)" };
        var wait = new Option<bool>("--wait")
        {
            Description = "Follow the run until it ends; exit 7 if it does not complete",
        };
        var create = new Command("create",
            "Start a run; one that would not fit in the training worker's memory is refused with the estimate and " +
            "what to change") { specFile, dataset, wait };
        create.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var body = await SpecAsync(result.GetValue(specFile)!, result.GetValue(dataset), cancellationToken);
            var run = await client.SendJsonAsync(HttpMethod.Post, "/api/runs", body, cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(run);
            else
                Console.WriteLine($"Run {run!["id"]} ({run["name"]}): {run["state"]}");
            return result.GetValue(wait)
                ? await WatchAsync(client, run!["id"]!.GetValue<Guid>(), globals.WantsJson(result), cancellationToken)
                : ExitCodes.Ok;
        }));
        var estimate = new Command("estimate",
            "Estimate a run before starting it: parameters, FLOPs, peak memory, time, and whether it fits")
            { specFile, dataset };
        estimate.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var body = await SpecAsync(result.GetValue(specFile)!, result.GetValue(dataset), cancellationToken);
            var figures = await client.SendJsonAsync(HttpMethod.Post, "/api/runs/estimate", body, cancellationToken);
            if (globals.WantsJson(result))
            {
                GlobalOptions.Print(figures);
                return ExitCodes.Ok;
            }
            var table = GlobalOptions.Table("Estimate", "Value");
            GlobalOptions.ScalarRows(table, figures);
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));

        var id = new Argument<Guid>("id") { Description = "The run's id" };
        var show = new Command("show", "Show a run") { id };
        show.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var run = await client.GetAsync($"/api/runs/{result.GetValue(id)}", cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(run);
            else
                Describe(run!);
            return ExitCodes.Ok;
        }));

        var watch = new Command("watch",
            "Follow a run live (pushed by the platform) until it ends; exit 0 if it completed, 7 if not") { id };
        watch.SetAction(globals.Run((result, client, cancellationToken) =>
            WatchAsync(client, result.GetValue(id), globals.WantsJson(result), cancellationToken)));

        var cancel = new Command("cancel", "Cancel a run (it keeps its progress)") { id };
        cancel.SetAction(globals.Run((result, client, cancellationToken) =>
            PostAsync(client, globals, result, $"/api/runs/{result.GetValue(id)}/cancel", cancellationToken)));
        var resume = new Command("resume", "Resume a failed or cancelled run from its latest checkpoint") { id };
        resume.SetAction(globals.Run((result, client, cancellationToken) =>
            PostAsync(client, globals, result, $"/api/runs/{result.GetValue(id)}/resume", cancellationToken)));

        var cascade = new Option<bool>("--cascade")
        {
            Description = "Also delete the model version it registered (without it, a run with a version is refused)",
        };
        var delete = new Command("delete",
            "Delete a run: its checkpoints, metrics and evaluation (a live run stops first)") { id, cascade };
        delete.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var query = result.GetValue(cascade) ? "?cascade=true" : "";
            var deleted = await client.SendAsync(HttpMethod.Delete, $"/api/runs/{result.GetValue(id)}{query}", null,
                cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(deleted);
            else
                Console.WriteLine($"Run {result.GetValue(id)}: {deleted?["state"]}" +
                    (deleted?["modelVersions"] is JsonArray { Count: > 0 } versions
                    ? $", with {string.Join(", ", versions.Select(v => v!.ToString()))}" : ""));
            return ExitCodes.Ok;
        }));

        var ids = new Argument<Guid[]>("ids") { Description = "Two to ten run ids", Arity = new ArgumentArity(2, 10) };
        var compare = new Command("compare",
            "Compare runs: differing parameters and final metrics side by side") { ids };
        compare.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var comparison = await client.GetAsync($"/api/runs/compare?ids={string.Join(",", result.GetValue(ids)!)}",
                cancellationToken);
            if (globals.WantsJson(result))
            {
                GlobalOptions.Print(comparison);
                return ExitCodes.Ok;
            }
            var runs = comparison!["runs"]!.AsArray();
            var table = GlobalOptions.Table(["Parameter",
                .. runs.Select(r => $"{r!["name"]} ({r["id"]!.ToString()[..8]})")]);
            foreach (var row in comparison["parameters"]!.AsArray().Where(p => p!["differs"]!.GetValue<bool>()))
                GlobalOptions.Row(table, [row!["parameter"], .. row["values"]!.AsArray()]);
            foreach (var metric in comparison["metrics"]!.AsArray())
                GlobalOptions.Row(table,
                    [$"last {metric!["key"]}",
                    .. metric["values"]!.AsArray().Select(v => v!.AsArray().LastOrDefault(x => x is not null))]);
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));

        return new Command("runs", "Start, list, follow and manage training runs") { create, estimate, list, search,
            show, watch, cancel, resume, delete, compare };
    }

    /// <summary>A spec file as POST /api/runs takes it, on the dataset given (which overrides the file's).</summary>
    private static async Task<JsonObject> SpecAsync(FileInfo file, Guid? dataset, CancellationToken cancellationToken)
    {
        var body = await GlobalOptions.ReadJsonObjectAsync(file, cancellationToken);
        if (dataset is { } d)
            body["datasetId"] = d;
        return body;
    }

    private static async Task<int> PostAsync(PlatformClient client, GlobalOptions globals, ParseResult result,
        string path, CancellationToken cancellationToken)
    {
        var run = await client.SendJsonAsync(HttpMethod.Post, path, new JsonObject(), cancellationToken);
        if (globals.WantsJson(result))
            GlobalOptions.Print(run);
        else
        {
            var stopping = run!["cancelRequested"]?.GetValue<bool>() == true ? " (stops at its next step)" : "";
            Console.WriteLine($"Run {run["id"]}: {run["state"]}{stopping}");
        }
        return ExitCodes.Ok;
    }

    private static void Describe(JsonNode run)
    {
        var table = GlobalOptions.FieldTable(run, "id", "name", "state", "failureReason", "step", "maxSteps",
            "latestTrainLoss", "latestValidationLoss", "bestValidationLoss", "tokensPerSecond", "etaSeconds", "epoch",
            "stepsPerEpoch", "parameters", "precision", "precisionReason", "modelVersion", "baseModel", "note",
            "createdAt", "finishedAt");
        if (run["tags"] is JsonArray { Count: > 0 } tags)
            GlobalOptions.Row(table, "tags", string.Join(", ", tags.Select(t => t!.ToString())));
        if (run["cost"] is JsonObject cost)
            GlobalOptions.Row(table, "cost", $"{cost["price"]} {cost["currency"]} ({cost["cpuSeconds"]} CPU s)");
        AnsiConsole.Write(table);
    }

    private static bool Finished(string? state) => state is "Completed" or "Failed" or "Cancelled" or "Deleted";

    /// <summary>A progress bar with loss and ETA on a terminal; one JSON line per event with --json or when
    /// piped.</summary>
    public static async Task<int> WatchAsync(PlatformClient client, Guid id, bool json,
        CancellationToken cancellationToken)
    {
        string? last = null;
        var events = client.StreamAsync(HttpMethod.Get, $"/api/runs/{id}/events", null, cancellationToken);
        if (json || Console.IsOutputRedirected)
        {
            await foreach (var (name, data) in events)
            {
                GlobalOptions.PrintEvent(name, JsonNode.Parse(data));
                if (name == "run")
                    last = JsonNode.Parse(data)!["state"]!.ToString();
            }
        }
        else
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask($"run {id.ToString()[..8]}", maxValue: 1);
                    double? loss = null, validation = null;
                    var epoch = "";
                    await foreach (var (name, data) in events)
                    {
                        var node = JsonNode.Parse(data)!;
                        if (name == "run")
                        {
                            last = node["state"]!.ToString();
                            task.MaxValue = Math.Max(1, node["maxSteps"]!.GetValue<int>());
                            task.Value = node["step"]!.GetValue<int>();
                            validation = node["latestValidationLoss"]?.GetValue<double>() ?? validation;
                        }
                        else if (name == "progress")
                        {
                            task.MaxValue = Math.Max(1, node["maxSteps"]!.GetValue<int>());
                            task.Value = node["step"]!.GetValue<int>();
                            loss = node["loss"]!.GetValue<double>();
                            validation = node["points"]?.AsArray().LastOrDefault(p =>
                                p!["key"]!.ToString() == "val_loss")?["value"]?.GetValue<double>() ?? validation;
                        }
                        epoch = node["epoch"]?.ToString() is { } e
                            ? $" epoch {e}/{node["epochs"] ?? node["training"]?["epochs"]}" : epoch;
                        var runName = node["name"]?.ToString() ?? $"run {id.ToString()[..8]}";
                        task.Description = Markup.Escape($"{runName} {last}{epoch} loss " +
                            $"{loss?.ToString("F4", CultureInfo.CurrentCulture) ?? "—"} " +
                            $"val {validation?.ToString("F4", CultureInfo.CurrentCulture) ?? "—"}");
                        if (Finished(last))
                            task.Value = task.MaxValue;
                    }
                });
            Console.WriteLine($"Run {id}: {last}");
        }
        return last == "Completed" ? ExitCodes.Ok : ExitCodes.RunDidNotComplete;
    }
}
