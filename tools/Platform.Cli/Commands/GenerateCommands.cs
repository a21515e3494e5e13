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
        var topP = new Option<double?>("--top-p")
        {
            Description = "Sample from the likeliest tokens whose " +
            "probabilities add up to p (nucleus sampling)"
        };
        var stop = new Option<string[]>("--stop")
        {
            Description = "Stop before this text (repeat for up to 4)",
        };
        var count = new Option<int>("-n", "--n")
        {
            Description = "How many completions (printed one after another, separated by a line of dashes)",
            DefaultValueFactory = _ => 1,
        };
        var seed = new Option<long?>("--seed") { Description = "A seed, for repeatable sampling" };
        var prompt = new Argument<string?>("prompt")
        {
            Description = "The prompt (an encoder-decoder's input); none or -: read from stdin",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("generate", "Generate a completion") { Model, prompt, stream, maxTokens,
            temperature, topK, topP, stop, count, seed };
        command.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var body = new JsonObject
            {
                ["model"] = result.GetValue(Model),
                ["prompt"] = await PromptAsync(result.GetValue(prompt), cancellationToken),
                ["max_tokens"] = result.GetValue(maxTokens)
            };
            if (result.GetValue(temperature) is { } t)
                body["temperature"] = t;
            if (result.GetValue(topK) is { } k)
                body["top_k"] = k;
            if (result.GetValue(topP) is { } p)
                body["top_p"] = p;
            if (result.GetValue(stop) is { Length: > 0 } stops)
                body["stop"] = new JsonArray([.. stops.Select(x => (JsonNode?)x)]);
            if (result.GetValue(count) is not 1 and var n)
            {
                if (result.GetValue(stream))
                    throw new UsageException("--stream prints one completion; leave it out to get several (-n).");
                body["n"] = n;
            }
            if (result.GetValue(seed) is { } s)
                body["seed"] = s;
            if (!result.GetValue(stream))
            {
                var completion = await client.SendJsonAsync(HttpMethod.Post, "/v1/completions", body,
                    cancellationToken);
                if (globals.WantsJson(result))
                    GlobalOptions.Print(completion);
                else
                    Console.WriteLine(string.Join(Environment.NewLine + "----" + Environment.NewLine,
                        completion!["choices"]!.AsArray().Select(c => c!["text"]!.ToString())));
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

    /// <summary>The prompt given, or all of stdin when it is "-" or left out and stdin is not a terminal.</summary>
    private static async Task<string> PromptAsync(string? given, CancellationToken cancellationToken)
    {
        if (given is not (null or "-"))
            return given;
        if (!Console.IsInputRedirected)
            throw new UsageException("No prompt: give one, or pipe it in on stdin.");
        return (await Console.In.ReadToEndAsync(cancellationToken)).TrimEnd('\n', '\r');
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
