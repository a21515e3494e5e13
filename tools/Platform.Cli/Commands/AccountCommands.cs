using System.CommandLine;

namespace Platform.Cli;

/// <summary>Who the CLI is signed in as, and signing out; `platform login` signs in.</summary>
public static class AccountCommands
{
    public static Command CreateWhoami(GlobalOptions globals)
    {
        var command = new Command("whoami", "Show the key in use: its name, role and id, and the platform's address");
        command.SetAction(globals.Run(async (result, client, cancellationToken) =>
        {
            var me = await client.GetAsync("/api/keys/me", cancellationToken);
            if (globals.WantsJson(result))
                GlobalOptions.Print(me);
            else
                Console.WriteLine($"{me!["name"]} ({me["role"]}, key {me["id"]}) at {globals.Config(result).Url}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command CreateLogout()
    {
        var command = new Command("logout",
            $"Forget the key `login` kept in {CliConfig.FilePath} (the key itself stays valid: an admin revokes it)");
        command.SetAction(_ =>
        {
            var existed = File.Exists(CliConfig.FilePath);
            File.Delete(CliConfig.FilePath);
            Console.WriteLine(existed ? $"Signed out: {CliConfig.FilePath} removed." : "Not signed in.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
