using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.ServiceDefaults.Messaging;

/// <summary>
/// Publishes pending outbox rows in order. Rows are claimed with FOR UPDATE SKIP LOCKED so several
/// replicas can dispatch without sending a row twice; a row is marked dispatched only after the broker took it.
/// </summary>
internal sealed class OutboxDispatcher<TContext>(IServiceProvider services, ILogger<OutboxDispatcher<TContext>> logger) : BackgroundService
    where TContext : DbContext, IOutboxContext
{
    private static readonly TimeSpan IdleDelay = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            int dispatched;
            try
            {
                dispatched = await DispatchBatchAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Outbox dispatch failed, will retry: {Message}", ex.Message);
                dispatched = 0;
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            if (dispatched == 0)
                await Task.Delay(IdleDelay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task<int> DispatchBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var bus = scope.ServiceProvider.GetRequiredService<IBus>();
        var entity = db.Model.FindEntityType(typeof(OutboxMessage))!;
        var table = $"\"{entity.GetSchema()}\".\"{entity.GetTableName()}\"";

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var batch = await db.OutboxMessages
            .FromSqlRaw($"SELECT * FROM {table} WHERE \"DispatchedAt\" IS NULL ORDER BY \"Id\" LIMIT 50 FOR UPDATE SKIP LOCKED")
            .ToListAsync(cancellationToken);
        foreach (var row in batch)
        {
            var type = Type.GetType(row.MessageType)
                ?? throw new InvalidOperationException($"Unknown outbox message type {row.MessageType}");
            var message = JsonSerializer.Deserialize(row.Body, type)!;
            if (row.DestinationQueue is null)
                await bus.Publish(message, type, cancellationToken);
            else
                await (await bus.GetSendEndpoint(new Uri($"queue:{row.DestinationQueue}"))).Send(message, type, cancellationToken);
            row.DispatchedAt = DateTimeOffset.UtcNow;
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return batch.Count;
    }
}
