using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Platform.Cli;

/// <summary>platform experiments create|ls: the named groups that runs, the platform's and scripts', belong
/// to.</summary>
public static class ExperimentsCommands
{
    public static Command Create(GlobalOptions globals)
    {
        var name = new Argument<string>("name") { Description = "The experiment's name (unique on the platform)" };
        var description = new Option<string?>("--description") { Description = "What it is for" };
        var create = new Command("create", "Create an experiment") { name, description };
        create.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var experiment = await client.SendJsonAsync(HttpMethod.Post, "/api/experiments", new JsonObject
            {
                ["name"] = result.GetValue(name),
                ["description"] = result.GetValue(description),
            }, cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(experiment);
            else
                Console.WriteLine($"{experiment!["name"]}: created");
            return ExitCodes.Ok;
        }));

        var list = new Command("ls", "List experiments, each with the runs you may read in it");
        list.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var experiments = await client.GetAsync("/api/experiments", cancellationToken);
            if (globals.WantsJson(result))
            {
                GlobalOptions.Print(experiments);
                return ExitCodes.Ok;
            }
            var table = GlobalOptions.Table("Name", "Runs", "Owner", "Description", "Created");
            foreach (var e in experiments!.AsArray())
                GlobalOptions.Row(table, e!["name"], e["runs"], e["owner"]?["name"], e["description"],
                    e["createdAt"]);
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));
        return new Command("experiments", "Group runs: the platform's and those your scripts log") { create, list };
    }
}
