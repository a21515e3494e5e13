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
        var upload = new Command("upload", "Upload a corpus (and start the pipeline)") { file, name, tokenizer,
            autoTrain, redact };
        upload.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var corpus = result.GetValue(file)!;
            if (!corpus.Exists)
                throw new UsageException($"{corpus.FullName} does not exist.");
            using var form = new MultipartFormDataContent();
            form.Add(new StringContent(result.GetValue(name) ?? Path.GetFileNameWithoutExtension(corpus.Name)), "name");
            if (result.GetValue(tokenizer) is { } kind)
                form.Add(new StringContent(kind), "tokenizer");
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
            if (globals.WantsJson(result))
                GlobalOptions.Print(dataset);
            else
                Console.WriteLine($"Dataset {dataset!["id"]} ({dataset["name"]}): {dataset["state"]}, " +
                    $"{dataset["characters"]} characters" +
                                  (dataset["autoTrainRunId"] is { } run
                                  ? $"; run {run} will train on it (platform runs watch {run})" : ""));
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
        return new Command("datasets", "Upload, list and share datasets") { upload, list, share };
    }
}
