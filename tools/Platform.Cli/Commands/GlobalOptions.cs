using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Platform.Cli;

/// <summary>The options every command takes, and the one way commands run: errors become a message and an exit
/// code.</summary>
public sealed record GlobalOptions(Option<string?> Url, Option<string?> Key, Option<bool> Json)
{
    public CliConfig Config(ParseResult result) => CliConfig.Resolve(result.GetValue(Url), result.GetValue(Key));

    public bool WantsJson(ParseResult result) => result.GetValue(Json);

    /// <summary>Runs a command body with a client; a refusal prints the platform's problem on stderr and returns its
    /// exit code.</summary>
    public Func<ParseResult, CancellationToken,
        Task<int>> Run(Func<ParseResult, PlatformClient, CancellationToken, Task<int>> body) =>
        async (result, cancellationToken) =>
        {
            using var client = new PlatformClient(Config(result));
            try
            {
                return await body(result, client, cancellationToken);
            }
            catch (PlatformException ex)
            {
                Console.Error.WriteLine(ex.Describe());
                return ex.ExitCode;
            }
            catch (UsageException ex)
            {
                Console.Error.WriteLine(ex.Message);
                return ExitCodes.Usage;
            }
        };

    public static void Print(JsonNode? node) =>
        Console.WriteLine(node?.ToJsonString(Platform.Cli.Json.Options) ?? "null");

    /// <summary>One line of a followed stream, for scripts: {"event": name, "data": …}.</summary>
    public static void PrintEvent(string name, JsonNode? data) =>
        Console.WriteLine(new JsonObject { ["event"] = name, ["data"] = data?.DeepClone() }.ToJsonString());

    /// <summary>A JSON object from a file the command line names (a run spec, a sweep); a missing file or one that is
    /// not a JSON object is the command line's fault.</summary>
    public static async Task<JsonObject> ReadJsonObjectAsync(FileInfo file, CancellationToken cancellationToken)
    {
        if (!file.Exists)
            throw new UsageException($"{file.FullName} does not exist.");
        try
        {
            return JsonNode.Parse(await File.ReadAllTextAsync(file.FullName, cancellationToken)) as JsonObject
                ?? throw new UsageException($"{file.FullName} does not hold a JSON object.");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new UsageException($"{file.FullName} is not JSON: {ex.Message}");
        }
    }

    public static string Text(JsonNode? node, string fallback = "—") => node switch
    {
        null => fallback,
        JsonValue v when v.TryGetValue<double>(out var d) && !v.TryGetValue<long>(out _) =>
        d.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture),
        JsonValue v => v.ToString(),
        _ => node.ToJsonString(),
    };

    public static Table Table(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns)
            table.AddColumn(column);
        return table;
    }

    /// <summary>A Field/Value table of those of <paramref name="fields"/> that <paramref name="node"/> holds.</summary>
    public static Table FieldTable(JsonNode node, params string[] fields)
    {
        var table = Table("Field", "Value");
        foreach (var field in fields)
            if (node[field] is { } value)
                Row(table, field, value);
        return table;
    }

    /// <summary>A row for each scalar member of an object (an estimate, an evaluation's figures), its name after
    /// <paramref name="prefix"/>.</summary>
    public static void ScalarRows(Table table, JsonNode? node, string prefix = "")
    {
        foreach (var (name, value) in node as JsonObject ?? [])
            if (value is JsonValue)
                Row(table, prefix + name, value);
    }

    public static void Row(Table table, params object?[] cells) =>
        table.AddRow(cells.Select(c => Markup.Escape(c is JsonNode n ? Text(n) : c?.ToString() ?? "—")).ToArray());
}

/// <summary>A command line that parsed but cannot be carried out (a file that does not exist, a spec that is not
/// JSON).</summary>
public sealed class UsageException(string message) : Exception(message);
