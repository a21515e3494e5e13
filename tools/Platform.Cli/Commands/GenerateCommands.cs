using System.Globalization;
using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Platform.Cli;

public static class GenerateCommands
{
    private static readonly Argument<string> Model = new("model")
    {
        Description = "name, name/versions/N or " +
        "name@alias"
    };
    private static readonly Argument<string> Prompt = new("prompt")
    {
        Description = "The prompt (an encoder-decoder's " +
        "input)"
    };

    public static Command CreateGenerate(GlobalOptions globals)
    {
        var stream = new Option<bool>("--stream") { Description = "Print the text as it is generated" };
        var maxTokens = new Option<int>("--max-tokens")
        {
            Description = "Tokens to generate",
            DefaultValueFactory = _ =>
            100
        };
        var temperature = new Option<double?>("--temperature") { Description = "Sampling temperature (0: greedy)" };
        var topK = new Option<int?>("--top-k") { Description = "Sample from the k likeliest tokens" };
        var seed = new Option<long?>("--seed") { Description = "A seed, for repeatable sampling" };
        var command = new Command("generate", "Generate a completion") { Model, Prompt, stream, maxTokens, temperature,
            topK, seed };
        command.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var body = new JsonObject
            {
                ["model"] = result.GetValue(Model),
                ["prompt"] = result.GetValue(Prompt),
                ["max_tokens"] = result.GetValue(maxTokens)
            };
            if (result.GetValue(temperature) is { } t)
                body["temperature"] = t;
            if (result.GetValue(topK) is { } k)
                body["top_k"] = k;
            if (result.GetValue(seed) is { } s)
                body["seed"] = s;
            if (!result.GetValue(stream))
            {
                var completion = await client.SendJsonAsync(HttpMethod.Post, "/v1/completions", body,
                    cancellationToken);
                if (globals.WantsJson(result))
                    GlobalOptions.Print(completion);
                else
                    Console.WriteLine(completion!["choices"]![0]!["text"]);
                return ExitCodes.Ok;
            }
            body["stream"] = true;
            await foreach (var (_, data) in client.StreamAsync(HttpMethod.Post, "/v1/completions", body,
                cancellationToken))
            {
                if (data == "[DONE]")
                    break;
                if (globals.WantsJson(result))
                    Console.WriteLine(data);
                else
                {
                    Console.Write(JsonNode.Parse(data)!["choices"]![0]!["text"]!.ToString());
                    await Console.Out.FlushAsync(cancellationToken);
                }
            }
            if (!globals.WantsJson(result))
                Console.WriteLine();
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command CreateExplain(GlobalOptions globals)
    {
        var command = new Command("explain",
            "What the model predicts next, and how much each prompt token mattered") { Model, Prompt };
        command.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var explained = await client.SendJsonAsync(HttpMethod.Post, "/api/explain",
                new JsonObject { ["model"] = result.GetValue(Model), ["prompt"] = result.GetValue(Prompt) },
                cancellationToken);
            if (globals.WantsJson(result))
            {
                GlobalOptions.Print(explained);
                return ExitCodes.Ok;
            }
            var next = GlobalOptions.Table("Next token", "Probability");
            foreach (var alternative in explained!["next"]!["top"]!.AsArray())
                GlobalOptions.Row(next, alternative!["text"]!.ToJsonString(),
                    Math.Exp(alternative["logprob"]!.GetValue<double>()).ToString("F3", CultureInfo.CurrentCulture));
            AnsiConsole.Write(next);
            var saliency = GlobalOptions.Table("Prompt token", "Share of saliency");
            foreach (var score in explained["saliency"]!["scores"]!.AsArray())
                GlobalOptions.Row(saliency, score!["text"]!.ToJsonString(),
                    score["share"]!.GetValue<double>().ToString("P1", CultureInfo.CurrentCulture));
            AnsiConsole.Write(saliency);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
