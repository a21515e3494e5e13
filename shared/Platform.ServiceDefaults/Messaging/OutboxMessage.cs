using System.Diagnostics;
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
    /// <summary>Failed dispatches of this row (its type did not load, its body did not read); the broker being away
    /// does not count.</summary>
    public int Attempts { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public string? LastError { get; set; }
    /// <summary>Set after Outbox:MaxAttempts failures: the row waits for an admin (GET/POST /api/admin/outbox) and
    /// blocks nothing.</summary>
    public DateTimeOffset? ParkedAt { get; set; }
    /// <summary>W3C trace context of the request or message that wrote the row, so the trace continues where it is
    /// published.</summary>
    public string? TraceParent { get; set; }
    public string? TraceState { get; set; }

    public bool IsParked => ParkedAt is not null;

    /// <summary>A dispatch of this row failed: try again after a doubling delay, or park it after <paramref
    /// name="maxAttempts"/>.</summary>
    public void RecordFailure(string error, int maxAttempts, TimeSpan firstDelay, DateTimeOffset now)
    {
        Attempts++;
        LastError = error.Length > 2000 ? error[..2000] : error;
        if (Attempts >= maxAttempts)
            ParkedAt = now;
        else
            NextAttemptAt = now + firstDelay * Math.Pow(2, Attempts - 1);
    }

    /// <summary>An admin sends a parked row again: it is pending with a fresh count.</summary>
    public void Unpark()
    {
        (ParkedAt, NextAttemptAt, Attempts) = (null, null, 0);
    }
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
        TraceParent = Activity.Current?.Id,
        TraceState = Activity.Current?.TraceStateString,
        // The runtime type, so a message passed as a base type is still published as what it is.
        MessageType = message.GetType().AssemblyQualifiedName!,
        Body = JsonSerializer.Serialize(message, message.GetType()),
        DestinationQueue = queue,
        CreatedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>The outbox table's quoted, schema-qualified name, for raw SQL.</summary>
    public static string OutboxTable(this DbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(OutboxMessage))!;
        return $"\"{entity.GetSchema()}\".\"{entity.GetTableName()}\"";
    }

    public static void ConfigureOutbox(this ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<OutboxMessage>(e =>
        {
            e.ToTable("outbox_messages");
            e.Property(m => m.Body).HasColumnType("jsonb");
            e.HasIndex(m =>
                m.Id).HasFilter("\"DispatchedAt\" IS NULL AND \"ParkedAt\" IS NULL").HasDatabaseName(
                "ix_outbox_pending");
            e.HasIndex(m =>
                m.DispatchedAt).HasFilter("\"DispatchedAt\" IS NOT NULL").HasDatabaseName("ix_outbox_dispatched");
            e.Property(m => m.MessageType).HasMaxLength(512);
            e.Property(m => m.TraceParent).HasMaxLength(128);
        });
    }
}
