using System.Buffers.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;

namespace Platform.ServiceDefaults.Http;

/// <summary>One page of a list, and the cursor of the next one (null: this is the last).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>A resource listed newest first, by creation time with its id to break ties.</summary>
public interface IListed
{
    Guid Id { get; }
    DateTimeOffset CreatedAt { get; }
}

/// <summary>
/// Cursor pagination (?limit=&amp;cursor=): the cursor names the last item of a page by its sort key, and the next page
/// starts strictly after it, so items created meanwhile never shift or repeat what a client is paging through.
/// Cursors are opaque (base64url JSON); a malformed one is a 400 naming "cursor".
/// </summary>
public static class Pages
{
    public const int DefaultLimit = 100, MaxLimit = 1000;

    public static string Encode<TPosition>(TPosition position) =>
        Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(position));

    /// <summary>The limit and decoded cursor, or the field errors (limit out of range, cursor not one of
    /// ours).</summary>
    public static (int Limit, TPosition? Position, ValidationErrors Errors) Read<TPosition>(int? limit,
        string? cursor) where TPosition : class
    {
        var errors = new ValidationErrors();
        errors.Require(limit is null or >= 1 and <= MaxLimit, "limit", $"must be between 1 and {MaxLimit}.");
        TPosition? position = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            try
            {
                position = JsonSerializer.Deserialize<TPosition>(Base64Url.DecodeFromChars(cursor));
            }
            catch (Exception ex) when (ex is FormatException or JsonException or ArgumentException)
            {
            }
            errors.Require(position is not null, "cursor",
                "is not a cursor this list gave out (use nextCursor as it came).");
        }
        return (limit ?? DefaultLimit, position, errors);
    }

    public static ProblemHttpResult Invalid(ValidationErrors errors) =>
        Problems.Invalid(errors, "The page request is invalid.");

    /// <summary>Newest first, after <paramref name="position"/>.</summary>
    public static IQueryable<T> NewestFirst<T>(this IQueryable<T> query, CreatedPosition? position) where T : class,
        IListed
    {
        if (position is { } p)
            query = query.Where(x => x.CreatedAt < p.At || x.CreatedAt == p.At && x.Id.CompareTo(p.Id) < 0);
        return query.OrderByDescending(x => x.CreatedAt).ThenByDescending(x => x.Id);
    }

    /// <summary>Takes one more than the page to learn whether another follows; the cursor names the page's last
    /// item.</summary>
    public static async Task<Page<TResponse>> PageAsync<T,
        TResponse>(this IQueryable<T> ordered, int limit, Func<T, object> positionOf,
        Func<T, TResponse> map, CancellationToken cancellationToken)
    {
        var rows = await ordered.Take(limit + 1).ToListAsync(cancellationToken);
        var more = rows.Count > limit;
        if (more)
            rows.RemoveAt(limit);
        return new Page<TResponse>([.. rows.Select(map)], more ? Encode(positionOf(rows[^1])) : null);
    }

    public static Task<Page<TResponse>> NewestFirstPageAsync<T,
        TResponse>(this IQueryable<T> query, int limit, CreatedPosition? position,
        Func<T, TResponse> map, CancellationToken cancellationToken) where T : class, IListed =>
        query.NewestFirst(position).PageAsync(limit, x => new CreatedPosition(x.CreatedAt, x.Id), map,
        cancellationToken);
}

/// <summary>Where a newest-first page ended.</summary>
public sealed record CreatedPosition(DateTimeOffset At, Guid Id);
