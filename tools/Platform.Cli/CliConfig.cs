using System.Text.Json;

namespace Platform.Cli;

/// <summary>
/// Where the platform is and which key to use: --url/--key, then PLATFORM_URL/PLATFORM_API_KEY, then the file
/// `platform login` wrote ($XDG_CONFIG_HOME/platform/config.json, readable by its owner only).
/// </summary>
public sealed record CliConfig(string Url, string? Key)
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static string FilePath => Path.Combine(
        Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config"),
        "platform", "config.json");

    public static CliConfig Resolve(string? url, string? key)
    {
        var saved = Load();
        return new CliConfig(
            (url ?? Environment.GetEnvironmentVariable("PLATFORM_URL") ?? saved?.Url ?? DefaultUrl).TrimEnd('/'),
            key ?? Environment.GetEnvironmentVariable("PLATFORM_API_KEY") ?? saved?.Key);
    }

    private static CliConfig? Load()
    {
        try
        {
            return File.Exists(FilePath)
                ? JsonSerializer.Deserialize<CliConfig>(File.ReadAllText(FilePath), Json.Options) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Save()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        using (File.Create(FilePath))
        { }
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(FilePath, JsonSerializer.Serialize(this, Json.Options));
    }
}

public static class Json
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = true };
}
