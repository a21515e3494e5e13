using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Platform.Cli;

public static class SweepsCommands
{
    public static Command Create(GlobalOptions globals)
    {
        var file = new Argument<FileInfo>("file")
        {
            Description = "The sweep as JSON: {\"base\": <run spec>, " +
            "\"grid\"|\"random\": {...}, \"maxRuns\", \"registerBest\"} (docs/api.md, \"Sweeps\")"
        };
        var dataset = new Option<Guid?>("--dataset")
        {
            Description = "The dataset to train on (overrides the file's " +
            "datasetId)"
        };
        var start = new Command("start", "Start a sweep: its runs queue for any training worker") { file, dataset };
        start.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var body = await GlobalOptions.ReadJsonObjectAsync(result.GetValue(file)!, cancellationToken);
            if (result.GetValue(dataset) is { } id)
                body["datasetId"] = id.ToString();
            var sweep = await client.SendJsonAsync(HttpMethod.Post, "/api/sweeps", body, cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(sweep);
            else
                Describe(sweep!);
            return ExitCodes.Ok;
        }));

        var state = new Option<string?>("--state")
        {
            Description = "Only sweeps in this state (Running, Completed, " +
            "Failed, Cancelled)"
        };
        var limit = new Option<int>("--limit") { Description = "How many (1-1000)", DefaultValueFactory = _ => 50 };
        var list = new Command("ls", "List sweeps, newest first") { state, limit };
        list.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var query = $"limit={result.GetValue(limit)}"
                + (result.GetValue(state) is { Length: > 0 } s ? $"&state={Uri.EscapeDataString(s)}" : "");
            var page = await client.GetAsync("/api/sweeps?" + query, cancellationToken);
            if (globals.WantsJson(result))
            {
                GlobalOptions.Print(page);
                return ExitCodes.Ok;
            }
            var table = GlobalOptions.Table("Id", "Name", "State", "Strategy", "Runs", "Best val loss", "Created");
            foreach (var item in page!["items"]!.AsArray())
                GlobalOptions.Row(table, item!["id"], item["name"], item["state"], item["strategy"], item["maxRuns"],
                    item["bestValue"], item["createdAt"]);
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));

        var id = new Argument<Guid>("id") { Description = "The sweep's id" };
        var show = new Command("show", "Show a sweep: its runs with their parameters, and the best so far") { id };
        show.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var sweep = await client.GetAsync($"/api/sweeps/{result.GetValue(id)}", cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(sweep);
            else
                Describe(sweep!);
            return ExitCodes.Ok;
        }));

        var watch = new Command("watch",
            "Follow a sweep until every run has ended; exit 0 if it completed, 7 if not") { id };
        watch.SetAction(globals.Run((result, client, cancellationToken) =>
            WatchAsync(client, result.GetValue(id), globals.WantsJson(result), cancellationToken)));

        var cancel = new Command("cancel", "Cancel every run of a sweep that has not ended") { id };
        cancel.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var sweep = await client.SendJsonAsync(HttpMethod.Post, $"/api/sweeps/{result.GetValue(id)}/cancel",
                new JsonObject(), cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(sweep);
            else
                Console.WriteLine($"Sweep {sweep!["id"]}: cancelling {Counts(sweep)}");
            return ExitCodes.Ok;
        }));

        return new Command("sweeps",
            "Hyper-parameter sweeps: many runs of one spec, spread over the training workers") { start, list, show,
            watch, cancel };
    }

    private static string Counts(JsonNode sweep) =>
        string.Join(", ", (sweep["runsByState"] as JsonObject ?? []).Select(p => $"{p.Value} {p.Key}"));

    private static void Describe(JsonNode sweep)
    {
        Console.WriteLine($"Sweep {sweep["id"]} ({sweep["name"]}, " +
            $"{sweep["strategy"]}{(sweep["seed"] is { } seed ? $", seed {seed}" : "")}): " +
                          $"{sweep["state"]}; {Counts(sweep)}; at most {sweep["peakRunsAtOnce"]} training at once");
        var best = sweep["best"]?["runId"]?.ToString();
        var runs = sweep["runs"]!.AsArray();
        var parameters = runs.FirstOrDefault()?["parameters"]?.AsObject().Select(p => p.Key).ToList() ?? [];
        // Headers name each parameter by its field ("learningRate"): a terminal's width holds more columns that way.
        var table = GlobalOptions.Table(["Run", "State", .. parameters.Select(p => p[(p.IndexOf('.') + 1)..]),
            "Best val loss", "Version", ""]);
        foreach (var run in runs)
            GlobalOptions.Row(table,
                [run!["id"]!.ToString()[..8], run["state"], .. parameters.Select(p => run["parameters"]![p]),
                run["bestValidationLoss"],
                run["modelVersion"], run["id"]!.ToString() == best ? "best" : ""]);
        AnsiConsole.Write(table);
    }

    /// <summary>A line each time the runs' states change (one JSON object per line with --json or when piped), until
    /// the sweep ends.</summary>
    private static async Task<int> WatchAsync(PlatformClient client, Guid id, bool json,
        CancellationToken cancellationToken)
    {
        string? shown = null;
        while (true)
        {
            var sweep = (await client.GetAsync($"/api/sweeps/{id}", cancellationToken))!;
            var state = sweep["state"]!.ToString();
            var line = $"{state}: {Counts(sweep)}; best {sweep["best"]?["value"]?.ToString() ?? "—"}";
            if (line != shown)
            {
                if (json || Console.IsOutputRedirected)
                    Console.WriteLine(new JsonObject
                    {
                        ["state"] = state,
                        ["runsByState"] = sweep["runsByState"]?.DeepClone(),
                        ["best"] = sweep["best"]?.DeepClone()
                    }.ToJsonString());
                else
                    Console.WriteLine($"{DateTime.Now:HH:mm:ss} {line}");
                shown = line;
            }
            if (state != "Running")
                return state == "Completed" ? ExitCodes.Ok : ExitCodes.RunDidNotComplete;
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        }
    }
}
