using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Platform.Cli;

public static class ModelsCommands
{
    public static Command Create(GlobalOptions globals)
    {
        var list = new Command("ls", "List models with their latest version");
        list.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var page = await client.GetAsync("/api/models?limit=1000", cancellationToken);
            if (globals.WantsJson(result))
            {
                GlobalOptions.Print(page);
                return ExitCodes.Ok;
            }
            var table = GlobalOptions.Table("Name", "Latest", "Versions", "Updated");
            foreach (var m in page!["items"]!.AsArray())
                GlobalOptions.Row(table, m!["name"], $"v{m["latestVersion"]}", m["versions"], m["updatedAt"]);
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));

        var name = new Argument<string>("name") { Description = "The model's name" };
        var version = new Argument<int>("version") { Description = "The version the alias will point to" };
        var alias = new Option<string>("--alias")
        {
            Description = "The alias to move",
            DefaultValueFactory = _ =>
            "production"
        };
        var quantization = new Option<string?>("--quantization")
        {
            Description = "Serve the version from now on with int8 weights (int8) or as trained (none)",
        };
        quantization.AcceptOnlyFromAmong("int8", "none");
        var promote = new Command("promote",
            "Point an alias (default production) at a version; its gate, if any, must pass")
            { name, version, alias, quantization };
        promote.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var path = $"/api/models/{Uri.EscapeDataString(result.GetValue(name)!)}" +
                $"/aliases/{Uri.EscapeDataString(result.GetValue(alias)!)}";
            var body = new JsonObject { ["version"] = result.GetValue(version) };
            if (result.GetValue(quantization) is { } served)
                body["quantization"] = served;
            var moved = await client.SendJsonAsync(HttpMethod.Put, path, body, cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(moved);
            else
                Console.WriteLine($"{moved!["name"]}@{moved["alias"]} → v{moved["version"]}");
            return ExitCodes.Ok;
        }));

        var shareName = new Argument<string>("name") { Description = "The model name" };
        var editors = new Argument<string[]>("key-ids")
        {
            Description = "The ids of the keys that may register versions under the name (none: shared with nobody)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var share = new Command("share", "Say which keys, beside its owner, may register versions under a model name")
            { shareName, editors };
        share.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var ids = new JsonArray([.. result.GetValue(editors)!.Select(e => (JsonNode?)e)]);
            var shared = await client.SendJsonAsync(HttpMethod.Put,
                $"/api/models/{Uri.EscapeDataString(result.GetValue(shareName)!)}/sharing",
                new JsonObject { ["editors"] = ids }, cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(shared);
            else
            {
                var editorCount = shared!["editors"]!.AsArray().Count;
                Console.WriteLine($"{shared["name"]}: owned by {shared["owner"]?["name"] ?? "admins"}, shared with " +
                                  (editorCount > 0 ? $"{editorCount} key(s)" : "nobody"));
            }
            return ExitCodes.Ok;
        }));
        var showName = new Argument<string>("name") { Description = "The model's name" };
        var showVersion = new Argument<int?>("version")
        {
            Description = "A version (none: the model and all its versions)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var show = new Command("show", "Show a model's versions and aliases, or one version with its evaluation")
            { showName, showVersion };
        show.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var path = $"/api/models/{Uri.EscapeDataString(result.GetValue(showName)!)}";
            if (result.GetValue(showVersion) is { } v)
                path += $"/versions/{v}";
            var model = await client.GetAsync(path, cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(model);
            else if (result.GetValue(showVersion) is null)
                DescribeModel(model!);
            else
                DescribeVersion(model!);
            return ExitCodes.Ok;
        }));

        var exportName = new Argument<string>("name") { Description = "The model's name" };
        var exportVersion = new Argument<int>("version") { Description = "The version" };
        var format = new Option<string>("--format")
        {
            Description = "safetensors (the platform's names, config in the metadata), gguf (for llama.cpp) or hf " +
            "(a Hugging Face model folder, zipped)",
            DefaultValueFactory = _ => "safetensors",
        };
        format.AcceptOnlyFromAmong("safetensors", "gguf", "hf");
        var type = new Option<string?>("--type") { Description = "gguf only: f32 (default), f16 or q8_0" };
        type.AcceptOnlyFromAmong("f32", "f16", "q8_0");
        var output = new Option<FileInfo?>("--output", "-o")
        {
            Description = "Where to write it (default: NAME-vVERSION with the format's extension, here)",
        };
        var export = new Command("export", "Download a version's weights in a format other tools load")
            { exportName, exportVersion, format, type, output };
        export.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var (model, version, kind) = (result.GetValue(exportName)!, result.GetValue(exportVersion),
                result.GetValue(format)!);
            var query = $"?format={kind}" + (result.GetValue(type) is { } t ? $"&type={t}" : "");
            var extension = kind switch { "gguf" => ".gguf", "hf" => ".zip", _ => ".safetensors" };
            var path = result.GetValue(output)?.FullName ?? Path.GetFullPath($"{model}-v{version}{extension}");
            var bytes = await client.DownloadAsync(
                $"/api/models/{Uri.EscapeDataString(model)}/versions/{version}/weights{query}", path,
                cancellationToken);
            Print(globals, result, path, bytes);
            return ExitCodes.Ok;
        }));

        var file = new Argument<string>("file")
        {
            Description = "tokenizer.json, tokenizer_config.json or another file the version lists",
        };
        var download = new Command("download", "Download one of a version's files (its tokenizer, its chat template…)")
            { exportName, exportVersion, file, output };
        download.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var (model, version, name) = (result.GetValue(exportName)!, result.GetValue(exportVersion),
                result.GetValue(file)!);
            var path = result.GetValue(output)?.FullName ?? Path.GetFullPath(Path.GetFileName(name));
            var bytes = await client.DownloadAsync($"/api/models/{Uri.EscapeDataString(model)}/versions/{version}/" +
                $"files/{Uri.EscapeDataString(name)}", path, cancellationToken);
            Print(globals, result, path, bytes);
            return ExitCodes.Ok;
        }));

        var importName = new Argument<string>("name") { Description = "The model name to register it under" };
        var weights = new Option<FileInfo?>("--weights")
        {
            Description = "safetensors in the platform's, nanoGPT's or Hugging Face GPT-2's layout",
            Required = true,
        };
        var tokenizer = new Option<FileInfo?>("--tokenizer") { Description = "Its tokenizer.json", Required = true };
        var config = new Option<FileInfo?>("--config") { Description = "Its config.json (when the weights hold none)" };
        var import = new Command("import", "Register weights trained elsewhere as a new version")
            { importName, weights, tokenizer, config };
        import.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            using var form = new MultipartFormDataContent();
            form.Add(new StringContent(result.GetValue(importName)!), "name");
            foreach (var (option, field) in new[] { (weights, "weights"), (tokenizer, "tokenizer"),
                (config, "config") })
            {
                if (result.GetValue(option) is not { } given)
                    continue;
                if (!given.Exists)
                    throw new UsageException($"{given.FullName} does not exist.");
                form.Add(new StreamContent(given.OpenRead()), field, given.Name);
            }
            var version = await client.SendAsync(HttpMethod.Post, "/api/models/import", form, cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(version);
            else
                Console.WriteLine($"{version!["name"]} v{version["version"]}: imported from {version["importedFrom"]}");
            return ExitCodes.Ok;
        }));

        return new Command("models", "List, show, export, import and promote models, and share their names")
            { list, show, export, download, import, promote, share };
    }

    private static void Print(GlobalOptions globals, ParseResult result, string path, long bytes)
    {
        if (globals.WantsJson(result))
            GlobalOptions.Print(new JsonObject { ["path"] = path, ["bytes"] = bytes });
        else
            Console.WriteLine($"Wrote {path} ({bytes:N0} bytes)");
    }

    private static void DescribeModel(JsonNode model)
    {
        var aliases = model["aliases"] is JsonObject a ? a.Select(p => $"{p.Key} → v{p.Value}").ToList() : [];
        Console.WriteLine($"{model["name"]}: latest v{model["latestVersion"]}" +
            (aliases.Count > 0 ? $"; {string.Join(", ", aliases)}" : ""));
        var table = GlobalOptions.Table("Version", "Architecture", "Loss", "Top-1", "Recall", "Created");
        foreach (var v in model["versions"]?.AsArray() ?? [])
            GlobalOptions.Row(table, $"v{v!["version"]}", v["architecture"], v["evaluation"]?["loss"],
                v["evaluation"]?["top1Accuracy"], v["evaluation"]?["macroRecall"], v["createdAt"]);
        AnsiConsole.Write(table);
    }

    private static void DescribeVersion(JsonNode version)
    {
        var table = GlobalOptions.FieldTable(version, "name", "version", "architecture", "runId", "datasetId",
            "baseModel", "fineTuneMethod", "importedFrom", "quantization", "checkpointSha256", "sample", "createdAt");
        GlobalOptions.ScalarRows(table, version["evaluation"], "evaluation.");
        AnsiConsole.Write(table);
    }
}
