using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Platform.ServiceDefaults.Messaging;

/// <summary>
/// A message written in the same transaction as the state change it announces, so a crash between
/// "saved" and "published" cannot lose it: the dispatcher publishes whatever is still pending.
/// </summary>
public sealed class OutboxMessage
{
    public long Id { get; set; }
    public string MessageType { get; set; } = "";
    public string Body { get; set; } = "";
    /// <summary>Queue name for a command; null for an event (published to all subscribers).</summary>
    public string? DestinationQueue { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? DispatchedAt { get; set; }
}

public interface IOutboxContext
{
    DbSet<OutboxMessage> OutboxMessages { get; }
}

public static class OutboxExtensions
{
    /// <summary>Queues an event for publication when the surrounding SaveChanges commits.</summary>
    public static void PublishViaOutbox<T>(this IOutboxContext db, T message) where T : class =>
        db.OutboxMessages.Add(Create(message, null));

    /// <summary>Queues a command for the named queue when the surrounding SaveChanges commits.</summary>
    public static void SendViaOutbox<T>(this IOutboxContext db, T message, string queue) where T : class =>
        db.OutboxMessages.Add(Create(message, queue));

    private static OutboxMessage Create<T>(T message, string? queue) where T : class => new()
    {
        // The runtime type, so a message passed as a base type is still published as what it is.
        MessageType = message.GetType().AssemblyQualifiedName!,
        Body = JsonSerializer.Serialize(message, message.GetType()),
        DestinationQueue = queue,
        CreatedAt = DateTimeOffset.UtcNow,
    };

    public static void ConfigureOutbox(this ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<OutboxMessage>(e =>
        {
            e.ToTable("outbox_messages");
            e.Property(m => m.Body).HasColumnType("jsonb");
            e.HasIndex(m => m.Id).HasFilter("\"DispatchedAt\" IS NULL").HasDatabaseName("ix_outbox_pending");
        });
    }
}
