using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Platform.Cli;

public static class EvaluateCommand
{
    /// <summary>`platform evaluate`: scores a version on a dataset of its family, and with --wait prints the
    /// figures.</summary>
    public static Command Create(GlobalOptions globals)
    {
        var model = new Argument<string>("model") { Description = "name, name/versions/N or name@alias" };
        var dataset = new Option<Guid>("--dataset")
        {
            Description = "The dataset whose held-out split it is scored on (text or chat for a GPT, pairs for an " +
            "encoder-decoder)",
            Required = true,
        };
        var wait = new Option<bool>("--wait")
        {
            Description = "Wait for the figures; exit 7 if the evaluation fails",
        };
        var command = new Command("evaluate", "Evaluate a version on a dataset: loss, accuracy, recall, F1, …")
            { model, dataset, wait };
        command.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var evaluation = await client.SendJsonAsync(HttpMethod.Post, "/api/evaluations",
                new JsonObject { ["model"] = result.GetValue(model), ["datasetId"] = result.GetValue(dataset) },
                cancellationToken);
            var json = globals.WantsJson(result);
            if (!result.GetValue(wait))
            {
                if (json)
                    GlobalOptions.Print(evaluation);
                else
                    Console.WriteLine($"Evaluation {evaluation!["id"]}: {evaluation["state"]}");
                return ExitCodes.Ok;
            }
            var id = evaluation!["id"]!.GetValue<Guid>();
            string? last = null;
            while (evaluation!["state"]!.ToString() is not ("Completed" or "Failed") and var state)
            {
                if (!json && state != last)
                    Console.WriteLine($"Evaluation {id}: {last = state}");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                evaluation = await client.GetAsync($"/api/evaluations/{id}", cancellationToken);
            }
            if (json)
                GlobalOptions.Print(evaluation);
            else if (evaluation["state"]!.ToString() == "Failed")
                Console.Error.WriteLine($"Evaluation {id}: Failed: {evaluation["failureReason"]}");
            else
            {
                var table = GlobalOptions.Table("Figure", "Value");
                GlobalOptions.ScalarRows(table, evaluation["figures"]);
                AnsiConsole.Write(table);
            }
            return evaluation["state"]!.ToString() == "Completed" ? ExitCodes.Ok : ExitCodes.RunDidNotComplete;
        }));
        return command;
    }
}
