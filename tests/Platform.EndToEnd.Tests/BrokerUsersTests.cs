using System.Diagnostics;
using Platform.Tests.Shared;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// infra/broker/definitions.sh's users as the real RabbitMQ imports them (rabbitmqctl import_definitions; the
/// broker container's start has the same file imported by load_definitions): each service logs in to the platform's
/// vhost with its own password only, and guest gets nothing there. Users and vhost of their own, deleted afterwards.
/// </summary>
public sealed class BrokerUsersTests : IDisposable
{
    private static readonly string[] Services = ["ingestion", "tokenization", "training", "evaluation", "generation"];
    private static readonly Uri TestBroker = new(Environment.GetEnvironmentVariable("PLATFORM_TEST_RABBITMQ")
        ?? "amqp://guest:guest@127.0.0.1:5673/platform-test");
    private readonly string _prefix = "u" + Guid.NewGuid().ToString("N")[..8];
    private string VirtualHost => _prefix + "-vhost";

    public void Dispose()
    {
        foreach (var user in Services.Select(s => $"{_prefix}-{s}").Append(_prefix + "-admin"))
            try
            { Broker.Run("-q", "delete_user", user); }
            catch (InvalidOperationException) { }
        try
        { Broker.Run("-q", "delete_vhost", VirtualHost); }
        catch (InvalidOperationException) { }
    }

    private Dictionary<string, string> ScriptEnvironment() => new()
    {
        ["BROKER_VHOST"] = VirtualHost,
        ["BROKER_USER_PREFIX"] = _prefix,
        ["RABBITMQ_DEFAULT_USER"] = _prefix + "-admin",
        ["RABBITMQ_DEFAULT_PASS"] = Convert.ToHexString(Guid.NewGuid().ToByteArray()),
    };

    private static (int ExitCode, string Output, string Error) Definitions(Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("sh", [Path.Combine(RepoRoot.Path, "infra", "broker", "definitions.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment.Clear();
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    private async Task<IConnection> ConnectAsync(string user, string password) =>
        await new ConnectionFactory
        {
            HostName = TestBroker.Host,
            Port = TestBroker.Port,
            VirtualHost = VirtualHost,
            UserName = user,
            Password = password,
            AutomaticRecoveryEnabled = false,
        }.CreateConnectionAsync();

    /// <summary>
    /// Whether the user may log in to the vhost and declare a queue there. A refused vhost shows only once the
    /// client uses the connection: RabbitMQ closes it just after opening it.
    /// </summary>
    private async Task<bool> MayUseAsync(string user, string password)
    {
        try
        {
            await using var connection = await ConnectAsync(user, password);
            await using var channel = await connection.CreateChannelAsync();
            var queue = await channel.QueueDeclareAsync($"{_prefix}-{user}-q", exclusive: true);
            await channel.BasicPublishAsync("", queue.QueueName, "m"u8.ToArray());
            return true;
        }
        catch (Exception e) when (e is BrokerUnreachableException or OperationInterruptedException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Each_service_logs_in_to_the_platform_vhost_as_its_own_user_and_no_other_and_guest_gets_nothing()
    {
        var environment = ScriptEnvironment();
        var passwords = Services.ToDictionary(s => s, _ => Convert.ToHexString(Guid.NewGuid().ToByteArray()));
        foreach (var (service, password) in passwords)
            environment[$"BROKER_PASSWORD_{service.ToUpperInvariant()}"] = password;
        var (exit, definitions, error) = Definitions(environment);
        Assert.True(exit == 0, error);
        var file = Path.Combine(Path.GetTempPath(), $"{_prefix}-definitions.json");
        await File.WriteAllTextAsync(file, definitions);
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead
                                   | UnixFileMode.OtherRead);
        try
        {
            Broker.Run("-q", "import_definitions", file);
        }
        finally
        {
            File.Delete(file);
        }

        // The import finishes after rabbitmqctl returns: wait for the last user to be able to log in.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await (await ConnectAsync($"{_prefix}-generation", passwords["generation"])).CloseAsync();
                break;
            }
            catch (BrokerUnreachableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }

        foreach (var (service, password) in passwords)
        {
            // Its own password lets it declare, send and receive on the vhost; another service's does not.
            Assert.True(await MayUseAsync($"{_prefix}-{service}", password), service);
            var other = passwords.First(p => p.Key != service).Value;
            Assert.False(await MayUseAsync($"{_prefix}-{service}", other), service);
        }
        // guest has no right on the vhost.
        Assert.False(await MayUseAsync("guest", "guest"));
    }

    [Fact]
    public void A_password_that_cannot_go_into_a_url_or_a_missing_one_is_refused_by_name_and_nothing_is_written()
    {
        var environment = ScriptEnvironment();
        foreach (var service in Services)
            environment[$"BROKER_PASSWORD_{service.ToUpperInvariant()}"] = "letters-and-digits-0";
        environment["BROKER_PASSWORD_TRAINING"] = "p@ss\"word";
        var (exit, output, error) = Definitions(environment);
        Assert.Equal((64, ""), (exit, output));
        Assert.Contains("BROKER_PASSWORD_TRAINING", error);

        environment.Remove("BROKER_PASSWORD_EVALUATION");
        environment["BROKER_PASSWORD_TRAINING"] = "letters-and-digits-0";
        (exit, output, error) = Definitions(environment);
        Assert.Equal((64, ""), (exit, output));
        Assert.Contains("BROKER_PASSWORD_EVALUATION is not set", error);
    }
}
