using System.CommandLine;
using Spectre.Console;

namespace Platform.Cli;

public static class LoginCommand
{
    /// <summary>`platform login`: checks the key against the platform, then keeps the address and key for later
    /// commands.</summary>
    public static Command Create(GlobalOptions globals)
    {
        var command = new Command("login",
            $"Check a key and keep it, with the address, in {CliConfig.FilePath} (readable by you only)");
        command.SetAction(async (result, cancellationToken) =>
        {
            var given = globals.Config(result);
            var key = result.GetValue(globals.Key) ?? Environment.GetEnvironmentVariable("PLATFORM_API_KEY");
            if (string.IsNullOrEmpty(key))
                key = Console.IsInputRedirected
                    ? Console.In.ReadLine()?.Trim()
                    : AnsiConsole.Prompt(new TextPrompt<string>("API key:").Secret());
            if (string.IsNullOrEmpty(key))
            {
                Console.Error.WriteLine("No key given.");
                return ExitCodes.Usage;
            }
            var config = given with { Key = key };
            using var client = new PlatformClient(config);
            try
            {
                var me = await client.GetAsync("/api/keys/me", cancellationToken);
                config.Save();
                if (globals.WantsJson(result))
                    GlobalOptions.Print(me);
                else
                    Console.WriteLine($"Signed in to {config.Url} as {me!["name"]} ({me["role"]}).");
                return ExitCodes.Ok;
            }
            catch (PlatformException ex)
            {
                Console.Error.WriteLine(ex.Describe());
                return ex.ExitCode;
            }
        });
        return command;
    }
}
