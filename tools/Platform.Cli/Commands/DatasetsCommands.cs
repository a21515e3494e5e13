using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Platform.Cli;

public static class DatasetsCommands
{
    public static Command Create(GlobalOptions globals)
    {
        var file = new Argument<FileInfo>("file") { Description = "A UTF-8 text corpus (or .tsv/.jsonl pairs)" };
        var name = new Option<string?>("--name") { Description = "The dataset's name (default: the file's name)" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "char, bpe or wordpiece" };
        var autoTrain = new Option<FileInfo?>("--auto-train")
        {
            Description = "A run spec (JSON) to train once the " +
            "dataset is tokenized"
        };
        var redact = new Option<string?>("--redact")
        {
            Description = "Personal data to replace before storing: " +
            "email,phone,ip,creditCard,cnId or all"
        };
        var format = new Option<string?>("--format")
        {
            Description = "text, pairs or chat (default: pairs for .tsv, chat or pairs for .jsonl as its first line " +
            "says, else text)",
        };
        format.AcceptOnlyFromAmong("text", "pairs", "chat");
        var validation = new Option<double?>("--validation-fraction")
        {
            Description = "The share held out for validation (default: the platform's, 0.1)",
        };
        var wait = new Option<bool>("--wait")
        {
            Description = "Follow the dataset until it is tokenized, then its auto-train run until it ends; exit 7 " +
            "if either fails",
        };
        var upload = new Command("upload", "Upload a corpus (and start the pipeline)") { file, name, tokenizer,
            autoTrain, redact, format, validation, wait };
        upload.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var corpus = result.GetValue(file)!;
            if (!corpus.Exists)
                throw new UsageException($"{corpus.FullName} does not exist.");
            using var form = new MultipartFormDataContent();
            form.Add(new StringContent(result.GetValue(name) ?? Path.GetFileNameWithoutExtension(corpus.Name)), "name");
            if (result.GetValue(tokenizer) is { } kind)
                form.Add(new StringContent(kind), "tokenizer");
            form.Add(new StringContent(result.GetValue(format) ?? FormatOf(corpus)), "format");
            if (result.GetValue(validation) is { } fraction)
                form.Add(new StringContent(fraction.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    "validationFraction");
            if (result.GetValue(autoTrain) is { } spec)
            {
                if (!spec.Exists)
                    throw new UsageException($"{spec.FullName} does not exist.");
                form.Add(new StringContent(await File.ReadAllTextAsync(spec.FullName, cancellationToken)), "autoTrain");
            }
            var content = new StreamContent(corpus.OpenRead());
            content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
            form.Add(content, "file", corpus.Name);
            var query = result.GetValue(redact) is { } kinds ? "?redact=" + Uri.EscapeDataString(kinds) : "";
            var dataset = await client.SendAsync(HttpMethod.Post, "/api/datasets" + query, form, cancellationToken);
            // Waiting with --json prints one line per event, this answer the first.
            if (globals.WantsJson(result) && result.GetValue(wait))
                GlobalOptions.PrintEvent("upload", dataset);
            else if (globals.WantsJson(result))
                GlobalOptions.Print(dataset);
            else
                Console.WriteLine($"Dataset {dataset!["id"]} ({dataset["name"]}): {dataset["state"]}, " +
                    $"{dataset["characters"]} characters" +
                                  (dataset["autoTrainRunId"] is { } run
                                  ? $"; run {run} will train on it (platform runs watch {run})" : ""));
            if (!result.GetValue(wait))
                return ExitCodes.Ok;
            var id = dataset!["id"]!.GetValue<Guid>();
            var settled = await WaitAsync(client, id, globals.WantsJson(result), cancellationToken);
            if (settled["state"]!.ToString() != "Tokenized")
                return ExitCodes.RunDidNotComplete;
            return dataset["autoTrainRunId"] is { } autoRun
                ? await RunsCommands.WatchAsync(client, autoRun.GetValue<Guid>(), globals.WantsJson(result),
                    cancellationToken)
                : ExitCodes.Ok;
        }));

        var id = new Argument<Guid>("id") { Description = "The dataset's id" };
        var show = new Command("show", "Show a dataset: its splits, tokenizer, redactions and sharing") { id };
        show.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var dataset = (await client.GetAsync($"/api/datasets/{result.GetValue(id)}", cancellationToken))!;
            if (globals.WantsJson(result))
            {
                GlobalOptions.Print(dataset);
                return ExitCodes.Ok;
            }
            var table = GlobalOptions.FieldTable(dataset, "id", "name", "state", "failureReason", "format", "bytes",
                "characters", "lines", "trainBytes", "validationBytes", "trainTokens", "validationTokens", "sha256",
                "autoTrainRunId", "createdAt");
            if (dataset["tokenizer"] is JsonObject t)
                GlobalOptions.Row(table, "tokenizer", $"{t["kind"]}, {t["vocabSize"]} tokens ({t["id"]})");
            if (dataset["redaction"]?["replaced"] is JsonObject replaced && replaced.Count > 0)
                GlobalOptions.Row(table, "redacted",
                    string.Join(", ", replaced.Select(r => $"{r.Key} {r.Value}")));
            Spectre.Console.AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));
        var cascade = new Option<bool>("--cascade")
        {
            Description = "Also delete the runs on it and the versions learned from it (without it, a dataset that " +
            "has them is refused, naming them)",
        };
        var delete = new Command("delete", "Delete a dataset") { id, cascade };
        delete.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var query = result.GetValue(cascade) ? "?cascade=true" : "";
            var deleted = await client.SendAsync(HttpMethod.Delete, $"/api/datasets/{result.GetValue(id)}{query}",
                null, cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(deleted);
            else
                Console.WriteLine($"Dataset {result.GetValue(id)} deleted, with " +
                    $"{deleted?["runs"]?.AsArray().Count ?? 0} run(s) and " +
                    $"{deleted?["modelVersions"]?.AsArray().Count ?? 0} model version(s) learned from it");
            return ExitCodes.Ok;
        }));

        var list = new Command("ls", "List datasets, newest first");
        list.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var page = await client.GetAsync("/api/datasets?limit=100", cancellationToken);
            if (globals.WantsJson(result))
            {
                GlobalOptions.Print(page);
                return ExitCodes.Ok;
            }
            var table = GlobalOptions.Table("Id", "Name", "State", "Characters", "Tokenizer", "Created");
            foreach (var d in page!["items"]!.AsArray())
                GlobalOptions.Row(table, d!["id"], d["name"], d["state"], d["characters"], d["tokenizer"]?["kind"],
                    d["createdAt"]);
            Spectre.Console.AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));
        var shareId = new Argument<Guid>("id") { Description = "The dataset's id" };
        var readers = new Argument<string[]>("key-ids")
        {
            Description = "The ids of the keys that may read it and what is learned from it (none: only its owner)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var everyone = new Option<bool>("--everyone") { Description = "Share with every key instead" };
        var share = new Command("share",
            "Say who, beside its owner and admins, may read a dataset and what is learned from it")
            { shareId, readers, everyone };
        share.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var ids = new JsonArray([.. result.GetValue(readers)!.Select(e => (JsonNode?)e)]);
            var shared = await client.SendJsonAsync(HttpMethod.Put, $"/api/datasets/{result.GetValue(shareId)}/sharing",
                new JsonObject { ["everyone"] = result.GetValue(everyone), ["readers"] = ids }, cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(shared);
            else
                Console.WriteLine($"Dataset {result.GetValue(shareId)}: shared with "
                    + (shared!["everyone"]!.GetValue<bool>()
                    ? "every key"
                    : shared["readers"]!.AsArray().Count is > 0 and var n ? $"{n} key(s)" : "nobody"));
            return ExitCodes.Ok;
        }));
        return new Command("datasets", "Upload, list, show, share and delete datasets")
            { upload, list, show, share, delete };
    }

    /// <summary>A file's format from its name, and for JSON lines from its first line: conversations carry
    /// "messages".</summary>
    public static string FormatOf(FileInfo file)
    {
        var extension = file.Extension.ToLowerInvariant();
        if (extension == ".tsv")
            return "pairs";
        if (extension != ".jsonl")
            return "text";
        using var reader = file.OpenText();
        var first = reader.ReadLine() ?? "";
        try
        {
            return JsonNode.Parse(first) is JsonObject o && o.ContainsKey("messages") ? "chat" : "pairs";
        }
        catch (System.Text.Json.JsonException)
        {
            return "pairs";
        }
    }

    /// <summary>Polls a dataset until it is tokenized or has failed, saying each state it passes through.</summary>
    private static async Task<JsonNode> WaitAsync(PlatformClient client, Guid id, bool json,
        CancellationToken cancellationToken)
    {
        string? last = null;
        while (true)
        {
            var dataset = (await client.GetAsync($"/api/datasets/{id}", cancellationToken))!;
            var state = dataset["state"]!.ToString();
            if (state != last)
            {
                if (json || Console.IsOutputRedirected)
                    GlobalOptions.PrintEvent("dataset", dataset);
                else
                    Console.WriteLine($"Dataset {id}: {state}" + (state == "Tokenized"
                        ? $", {dataset["trainTokens"]} train and {dataset["validationTokens"]} validation tokens"
                        : dataset["failureReason"] is { } reason ? $": {reason}" : ""));
                last = state;
            }
            if (state is "Tokenized" or "Failed" or "Deleted")
                return dataset;
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }
}
