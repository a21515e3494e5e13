using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.ServiceDefaults.Reliability;

namespace Platform.ServiceDefaults.Messaging;

public static class MessagingExtensions
{
    /// <summary>
    /// MassTransit on RabbitMQ with durable queues named "{service}-{consumer}" (so two services consuming
    /// the same event each get their own copy), a retry policy, and the service's consumers.
    /// </summary>
    public static IHostApplicationBuilder AddServiceMessaging(this IHostApplicationBuilder builder, string serviceName,
        Action<IBusRegistrationConfigurator>? addConsumers = null)
    {
        var broker = BrokerSettings.From(builder.Configuration);
        builder.Services.Configure<FaultInjectionOptions>(
            builder.Configuration.GetSection(FaultInjectionOptions.Section));
        builder.Services.AddSingleton<FaultInjector>();
        builder.Services.AddMassTransit(x =>
        {
            // The platform runs self-hosted and often offline: nothing is reported to MassTransit's servers.
            x.DisableUsageTelemetry();
            x.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(serviceName, false));
            addConsumers?.Invoke(x);
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(broker.Host, broker.Port, broker.VirtualHost, h =>
                {
                    h.Username(broker.Username);
                    h.Password(broker.Password);
                });
                // After the last retry MassTransit publishes Fault<T>; each service's fault consumers end what the
                // message was about in Failed, so no dataset, run or evaluation is stranded by a dead message.
                cfg.UseMessageRetry(r => r.Intervals(500, 2000, 5000));
                if (context.GetRequiredService<FaultInjector>() is { Enabled: true } faults)
                    cfg.ConnectConsumerConfigurationObserver(new FaultInjectionObserver(faults));
                cfg.ConfigureEndpoints(context);
            });
        });
        return builder;
    }

    /// <summary>Publishes what the service's DbContext wrote to its outbox table.</summary>
    public static IHostApplicationBuilder AddOutboxDispatcher<TContext>(this IHostApplicationBuilder builder)
        where TContext : DbContext, IOutboxContext
    {
        builder.Services.Configure<OutboxOptions>(builder.Configuration.GetSection(OutboxOptions.Section));
        builder.Services.AddSingleton<OutboxTelemetry>();
        builder.Services.AddHostedService<OutboxDispatcher<TContext>>();
        return builder;
    }
}

/// <summary>Broker address from ConnectionStrings:RabbitMq, e.g. amqp://guest:guest@127.0.0.1:5673/platform.</summary>
public sealed record BrokerSettings(string Host, ushort Port, string VirtualHost, string Username, string Password)
{
    public static BrokerSettings From(IConfiguration configuration)
    {
        var raw = configuration.GetConnectionString("RabbitMq")
            ?? throw new InvalidOperationException("ConnectionStrings:RabbitMq is not configured (e.g. " +
            "ConnectionStrings__RabbitMq=amqp://user:password@host:5672/vhost).");
        var uri = new Uri(raw);
        var user = uri.UserInfo.Split(':', 2);
        var vhost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        return new BrokerSettings(
            uri.Host,
            (ushort)(uri.Port > 0 ? uri.Port : 5672),
            vhost.Length == 0 ? "/" : vhost,
            user.Length > 0 && user[0].Length > 0 ? Uri.UnescapeDataString(user[0]) : "guest",
            user.Length > 1 ? Uri.UnescapeDataString(user[1]) : "guest");
    }
}
