using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Gateway.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.ServiceDefaults.Security;

namespace Gateway.Idempotency;

/// <summary>
/// Idempotency-Key on the configured POST routes (IETF draft "The Idempotency-Key HTTP Header Field"): the first
/// request with a key is forwarded and its response kept; a retry with the same key, path and body gets that response
/// again and creates nothing; the same key with another body is a 422, and while the first is still in flight a 409.
/// Keys are per API key. A first request that ends in a 5xx, or throws, keeps nothing, so it can be retried; one left
/// in flight by a gateway that died is taken over by a retry after Idempotency:InFlightTimeout.
/// </summary>
public sealed partial class IdempotencyMiddleware(RequestDelegate next, IOptions<IdempotencyOptions> options,
    ILogger<IdempotencyMiddleware> logger)
{
    public const string HeaderName = "Idempotency-Key";

    [GeneratedRegex("^[\\x21-\\x7E]{1,255}$")]
    private static partial Regex KeyPattern();

    public async Task InvokeAsync(HttpContext context, AccessDbContext db)
    {
        if (!HttpMethods.IsPost(context.Request.Method)
            || !context.Request.Headers.TryGetValue(HeaderName, out var values)
            || !options.Value.Paths.Contains(context.Request.Path.Value?.TrimEnd('/') ?? "", StringComparer.Ordinal)
            || Caller.From(context.User) is not { } caller)
        {
            await next(context);
            return;
        }
        var key = values.ToString();
        if (!KeyPattern().IsMatch(key))
        {
            await ProblemAsync(context, StatusCodes.Status400BadRequest, "The Idempotency-Key is invalid.",
                $"{HeaderName}: must be 1-255 visible ASCII characters.", new Dictionary<string,
                string[]>
                { [HeaderName] = ["must be 1-255 visible ASCII characters."] });
            return;
        }
        var path = context.Request.Path.Value!.TrimEnd('/');
        var now = DateTimeOffset.UtcNow;
        // One query clears the expired records and, for this key, a first request still unanswered long after any
        // request could last: it died with its gateway, and the retry takes over.
        var (expired, abandoned) = (now - options.Value.Retention, now - options.Value.InFlightTimeout);
        await db.Set<IdempotencyRecord>()
            .Where(r => r.CreatedAt < expired
                        || r.KeyId == caller.KeyId && r.IdempotencyKey == key && r.Status == null
                        && r.CreatedAt < abandoned)
            .ExecuteDeleteAsync(context.RequestAborted);

        var record = IdempotencyRecord.Start(caller.KeyId, key, context.Request.Method, path, now);
        db.Add(record);
        try
        {
            await db.SaveChangesAsync(context.RequestAborted);
        }
        catch (DbUpdateException ex) when (
            ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            await ReplayAsync(context, db, caller.KeyId, key, path);
            return;
        }

        // The first request: forward it, hashing its body as it streams through and keeping a copy of the answer.
        var hashing = new HashingStream(context.Request.Body, BoundaryOf(context.Request));
        context.Request.Body = hashing;
        var original = context.Response.Body;
        using var copy = new MemoryStream();
        context.Response.Body = new TeeStream(original, copy);
        var kept = false;
        try
        {
            await next(context);
            await hashing.DrainAsync(context.RequestAborted);
            if (context.Response.StatusCode < 500 && copy.Length <= options.Value.MaxBodyBytes)
            {
                record.Complete(hashing.Sha256Hex(), context.Response.StatusCode, context.Response.ContentType,
                    context.Response.Headers.Location.ToString() is { Length: > 0 } location ? location : null,
                    copy.ToArray());
                await db.SaveChangesAsync(CancellationToken.None);
                kept = true;
            }
        }
        finally
        {
            context.Response.Body = original;
            if (!kept)
            {
                db.ChangeTracker.Clear();
                await db.Set<IdempotencyRecord>().Where(r => r.KeyId == caller.KeyId
                    && r.IdempotencyKey == key).ExecuteDeleteAsync(CancellationToken.None);
            }
        }
    }

    private async Task ReplayAsync(HttpContext context, AccessDbContext db, Guid keyId, string key, string path)
    {
        var first = await db.Set<IdempotencyRecord>().AsNoTracking().FirstOrDefaultAsync(r => r.KeyId == keyId
            && r.IdempotencyKey == key, context.RequestAborted);
        if (first is null || !first.IsComplete)
        {
            await ProblemAsync(context, StatusCodes.Status409Conflict,
                "A request with this Idempotency-Key is still in progress.",
                "Retry when it has been answered.");
            return;
        }
        var hashing = new HashingStream(context.Request.Body, BoundaryOf(context.Request));
        await hashing.DrainAsync(context.RequestAborted);
        if (first.Method != context.Request.Method || first.Path != path || first.RequestSha256 != hashing.Sha256Hex())
        {
            await ProblemAsync(context, StatusCodes.Status422UnprocessableEntity,
                "The Idempotency-Key was used for another request.",
                $"It was first used for {first.Method} {first.Path} with a different body; use a new key for a new " +
                $"request.");
            return;
        }
        logger.LogInformation("Replayed the first response to {Method} {Path} for a retry with the same " +
            "Idempotency-Key", first.Method, first.Path);
        context.Response.StatusCode = first.Status!.Value;
        if (first.ContentType is { } contentType)
            context.Response.ContentType = contentType;
        if (first.Location is { } location)
            context.Response.Headers.Location = location;
        context.Response.Headers["Idempotent-Replayed"] = "true";
        await context.Response.Body.WriteAsync(first.Body, context.RequestAborted);
    }

    private static string? BoundaryOf(HttpRequest request) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
        && type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            ? Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(type.Boundary).Value
            : null;

    private static Task ProblemAsync(HttpContext context, int status, string title, string detail, IDictionary<string,
        string[]>? errors = null) =>
        (errors is null
            ? Results.Problem(statusCode: status, title: title, detail: detail)
            : Results.ValidationProblem(errors, statusCode: status, title: title,
            detail: detail)).ExecuteAsync(context);

    /// <summary>
    /// Reads through to the inner stream, hashing every byte read. A multipart body is hashed with its boundary
    /// replaced by a fixed one, so a client that retries with a freshly generated boundary still sends "the same
    /// request".
    /// </summary>
    private sealed class HashingStream(Stream inner, string? boundary) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly BoundaryNormaliser? _normaliser = string.IsNullOrEmpty(boundary) ? null
            : new BoundaryNormaliser(boundary);
        private byte[]? _digest;

        public string Sha256Hex()
        {
            if (_digest is null)
            {
                _normaliser?.Flush(_hash);
                _digest = _hash.GetHashAndReset();
            }
            return Convert.ToHexStringLower(_digest);
        }

        public async Task DrainAsync(CancellationToken cancellationToken)
        {
            var buffer = new byte[81920];
            while (await ReadAsync(buffer, cancellationToken) > 0)
            {
            }
        }

        private void Append(ReadOnlySpan<byte> data)
        {
            if (_normaliser is null)
                _hash.AppendData(data);
            else
                _normaliser.Append(data, _hash);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer,
            CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            Append(buffer.Span[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count,
            CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            Append(buffer.AsSpan(offset, read));
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position
        {
            get => throw new NotSupportedException(); set =>
            throw new NotSupportedException();
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _hash.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>Writes to the response and to a copy.</summary>
    private sealed class TeeStream(Stream response, Stream copy) : Stream
    {
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer,
            CancellationToken cancellationToken = default)
        {
            await response.WriteAsync(buffer, cancellationToken);
            await copy.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            response.Write(buffer, offset, count);
            copy.Write(buffer, offset, count);
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => response.FlushAsync(cancellationToken);
        public override void Flush() => response.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position
        {
            get => throw new NotSupportedException(); set =>
            throw new NotSupportedException();
        }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
