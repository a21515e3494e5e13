using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Platform.ServiceDefaults.Messaging;

/// <summary>
/// Publishes pending outbox rows in order. Rows are claimed with FOR UPDATE SKIP LOCKED so several replicas can
/// dispatch without sending a row twice; a row is marked dispatched only after the broker took it. A row that cannot be
/// read is retried with a doubling delay and then parked, never holding up the rows behind it; a broker that is away,
/// or a publish that the broker does not take within the publish timeout, stops the batch without counting against any
/// row. Dispatched rows are deleted after the retention window. Each message is published inside the trace of the
/// request or message that wrote it.
/// </summary>
internal sealed class OutboxDispatcher<TContext>(IServiceProvider services, IOptions<OutboxOptions> options,
    OutboxTelemetry telemetry,
    ILogger<OutboxDispatcher<TContext>> logger) : BackgroundService
    where TContext : DbContext, IOutboxContext
{
    private static readonly TimeSpan IdleDelay = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextCleanup = DateTimeOffset.UtcNow;
        while (!stoppingToken.IsCancellationRequested)
        {
            int dispatched;
            try
            {
                dispatched = await DispatchBatchAsync(stoppingToken);
                if (DateTimeOffset.UtcNow >= nextCleanup)
                {
                    await DeleteExpiredAsync(stoppingToken);
                    nextCleanup = DateTimeOffset.UtcNow + options.Value.CleanupInterval;
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Outbox dispatch failed, will retry: {Message}", ex.Message);
                dispatched = 0;
                await Task.Delay(TimeSpan.FromSeconds(2),
                    stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
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
        var table = db.OutboxTable();
        var now = DateTimeOffset.UtcNow;

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var batch = await db.OutboxMessages
            .FromSqlRaw($"""
                SELECT * FROM {table}
                WHERE "DispatchedAt" IS NULL AND "ParkedAt" IS NULL
                  AND ("NextAttemptAt" IS NULL OR "NextAttemptAt" <= @p0)
                ORDER BY "Id" LIMIT 50 FOR UPDATE SKIP LOCKED
                """, now)
            .ToListAsync(cancellationToken);
        var sent = 0;
        Exception? brokerError = null;
        foreach (var row in batch)
        {
            object message;
            Type type;
            try
            {
                type = Type.GetType(row.MessageType, throwOnError: true)!;
                message = JsonSerializer.Deserialize(row.Body, type) ?? throw new JsonException("The body is null.");
            }
            catch (Exception ex) when (
                ex is TypeLoadException or FileNotFoundException or FileLoadException or JsonException
                or NotSupportedException or ArgumentException)
            {
                row.RecordFailure($"{ex.GetType().Name}: {ex.Message}", options.Value.MaxAttempts,
                    options.Value.FirstRetry, now);
                logger.LogWarning("Outbox row {Id} ({Type}) failed {Attempts} time(s){Parked}: {Error}", row.Id,
                    row.MessageType, row.Attempts,
                    row.IsParked ? " and is parked" : "", ex.Message);
                if (row.IsParked)
                    telemetry.Parked();
                continue;
            }
            try
            {
                using var activity = StartPublishActivity(row, type);
                using var publishing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                publishing.CancelAfter(options.Value.PublishTimeout);
                var publish = row.DestinationQueue is null
                    ? bus.Publish(message, type, publishing.Token)
                    : SendAsync(bus, row.DestinationQueue, message, type, publishing.Token);
                // WaitAsync bounds the wait even where the transport does not observe the token.
                await publish.WaitAsync(options.Value.PublishTimeout, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // The broker is away: what was sent is recorded, the rest waits for the next batch unchanged.
                brokerError = ex;
                break;
            }
            row.DispatchedAt = DateTimeOffset.UtcNow;
            telemetry.Dispatched(row.DispatchedAt.Value - row.CreatedAt);
            sent++;
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (brokerError is not null)
            throw new InvalidOperationException($"publishing to the broker failed: {brokerError.Message}", brokerError);
        return sent;
    }

    private static async Task SendAsync(IBus bus, string queue, object message, Type type,
        CancellationToken cancellationToken) =>
        await (await bus.GetSendEndpoint(new Uri($"queue:{queue}"))).Send(message, type, cancellationToken);

    /// <summary>The publish joins the trace of whoever wrote the row (MassTransit's send activity becomes its
    /// child).</summary>
    private static Activity? StartPublishActivity(OutboxMessage row, Type type) =>
        ActivityContext.TryParse(row.TraceParent, row.TraceState, out var parent)
            ? OutboxTelemetry.Source.StartActivity($"outbox publish {type.Name}", ActivityKind.Internal, parent)
            : OutboxTelemetry.Source.StartActivity($"outbox publish {type.Name}", ActivityKind.Internal);

    private async Task DeleteExpiredAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var before = DateTimeOffset.UtcNow - options.Value.Retention;
        var deleted = await db.OutboxMessages.Where(m => m.DispatchedAt != null
            && m.DispatchedAt < before).ExecuteDeleteAsync(cancellationToken);
        if (deleted > 0)
            logger.LogInformation("Outbox: deleted {Count} rows dispatched before {Before:O}", deleted, before);
    }
}
