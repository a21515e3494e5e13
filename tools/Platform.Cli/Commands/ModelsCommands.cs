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
        return new Command("models", "List models, move their aliases and share their names") { list, promote, share };
    }
}
