using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.Cli;

/// <summary>
/// `platform chat MODEL`: a conversation with a version trained on conversations, through /v1/chat/completions. With
/// stdin redirected, stdin is one user message and the reply is printed (one-shot); otherwise it reads turns from the
/// terminal until an empty line or end of input, keeping the conversation. Replies stream as they are generated.
/// </summary>
public static class ChatCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var model = new Argument<string>("model") { Description = "name, name/versions/N or name@alias" };
        var system = new Option<string?>("--system") { Description = "A system message to start the conversation" };
        var maxTokens = new Option<int>("--max-tokens")
        {
            Description = "Tokens a reply may take",
            DefaultValueFactory = _ => 200,
        };
        var temperature = new Option<double?>("--temperature") { Description = "Sampling temperature (0: greedy)" };
        var seed = new Option<long?>("--seed") { Description = "A seed, for repeatable sampling" };
        var schema = new Option<FileInfo?>("--schema")
        {
            Description = "A JSON schema file every reply must follow (structured output)",
        };
        var command = new Command("chat", "Talk to a chat model: interactive, or one message from stdin")
        {
            model, system, maxTokens, temperature, seed, schema,
        };
        command.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var messages = new JsonArray();
            if (result.GetValue(system) is { } text)
                messages.Add(Message("system", text));
            JsonNode? format = null;
            if (result.GetValue(schema) is { } file)
                format = new JsonObject
                {
                    ["type"] = "json_schema",
                    ["json_schema"] = new JsonObject
                    {
                        ["name"] = Path.GetFileNameWithoutExtension(file.Name),
                        ["schema"] = JsonNode.Parse(await File.ReadAllTextAsync(file.FullName, cancellationToken)),
                    },
                };
            async Task<string> ReplyAsync()
            {
                var body = new JsonObject
                {
                    ["model"] = result.GetValue(model),
                    ["messages"] = messages.DeepClone(),
                    ["max_completion_tokens"] = result.GetValue(maxTokens),
                    ["stream"] = true,
                };
                if (result.GetValue(temperature) is { } t)
                    body["temperature"] = t;
                if (result.GetValue(seed) is { } s)
                    body["seed"] = s;
                if (format is not null)
                    body["response_format"] = format.DeepClone();
                var reply = new StringBuilder();
                await foreach (var (_, data) in client.StreamAsync(HttpMethod.Post, "/v1/chat/completions", body,
                    cancellationToken))
                {
                    if (data == "[DONE]")
                        break;
                    if (JsonNode.Parse(data)!["choices"]!.AsArray() is [{ } choice, ..]
                        && choice["delta"]?["content"]?.GetValue<string>() is { } delta)
                    {
                        reply.Append(delta);
                        Console.Write(delta);
                        await Console.Out.FlushAsync(cancellationToken);
                    }
                }
                Console.WriteLine();
                return reply.ToString();
            }

            if (Console.IsInputRedirected)
            {
                messages.Add(Message("user", (await Console.In.ReadToEndAsync(cancellationToken)).TrimEnd('\n')));
                await ReplyAsync();
                return ExitCodes.Ok;
            }
            Console.Error.WriteLine("An empty line ends the conversation.");
            while (true)
            {
                Console.Write("> ");
                if (Console.ReadLine() is not { Length: > 0 } line)
                    return ExitCodes.Ok;
                messages.Add(Message("user", line));
                messages.Add(Message("assistant", await ReplyAsync()));
            }
        }));
        return command;
    }

    private static JsonObject Message(string role, string content) =>
        new() { ["role"] = role, ["content"] = content };
}
