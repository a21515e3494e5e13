using System.CommandLine;
using Platform.Cli;

// `platform`: the platform from a terminal, through the gateway. Each command is in Commands/; the exit codes are in
// ExitCodes.
var url = new Option<string?>("--url")
{
    Description = "The gateway's address (default: PLATFORM_URL, then the login " +
    "file, then " + CliConfig.DefaultUrl + ")",
    Recursive = true
};
var key = new Option<string?>("--key")
{
    Description = "An API key (default: PLATFORM_API_KEY, then the login file)",
    Recursive = true
};
var json = new Option<bool>("--json")
{
    Description = "Print the platform's JSON instead of tables, for scripts",
    Recursive = true
};
var globals = new GlobalOptions(url, key, json);

var root = new RootCommand("The platform from a terminal: datasets, runs, sweeps, models, evaluations, generation, " +
    "chat and explanations, through the gateway.")
{
    url, key, json,
    LoginCommand.Create(globals),
    AccountCommands.CreateWhoami(globals),
    AccountCommands.CreateLogout(),
    DatasetsCommands.Create(globals),
    RunsCommands.Create(globals),
    ExperimentsCommands.Create(globals),
    SweepsCommands.Create(globals),
    ModelsCommands.Create(globals),
    GenerateCommands.CreateGenerate(globals),
    ChatCommand.Create(globals),
    GenerateCommands.CreateExplain(globals),
    EvaluateCommand.Create(globals),
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
        Console.Error.WriteLine(error.Message);
    return ExitCodes.Usage;
}
return await parsed.InvokeAsync();
