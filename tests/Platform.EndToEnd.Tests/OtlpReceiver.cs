using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Text;

namespace Platform.EndToEnd.Tests;

/// <summary>One received span: the service that exported it, its trace and span ids (hex) and its name.</summary>
public sealed record ReceivedSpan(string Service, string TraceId, string SpanId, string ParentSpanId, string Name);

/// <summary>
/// A minimal OTLP/HTTP collector: accepts protobuf export requests at /v1/traces (and ignores /v1/metrics and
/// /v1/logs), and keeps every span in memory. It reads just enough of the OTLP protobuf schema (resource attributes,
/// span ids and names) with a hand-written wire-format reader, so the services are checked against the protocol itself.
/// </summary>
public sealed class OtlpReceiver(int port) : IDisposable
{
    private readonly HttpListener _listener = new() { Prefixes = { $"http://127.0.0.1:{port}/" } };
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();

    public Uri Address { get; } = new($"http://127.0.0.1:{port}/");

    public IReadOnlyList<ReceivedSpan> Spans => _spans.ToArray();

    public void Start()
    {
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                { context = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                try
                {
                    using var body = new MemoryStream();
                    var input = context.Request.Headers["Content-Encoding"] == "gzip"
                        ? new GZipStream(context.Request.InputStream, CompressionMode.Decompress)
                        : context.Request.InputStream;
                    await input.CopyToAsync(body);
                    if (context.Request.Url?.AbsolutePath == "/v1/traces")
                        foreach (var span in ParseTraces(body.ToArray()))
                            _spans.Enqueue(span);
                    context.Response.StatusCode = 200;
                    context.Response.ContentType = "application/x-protobuf";
                }
                catch (Exception)
                {
                    context.Response.StatusCode = 400;
                }
                context.Response.Close();
            }
        });
    }

    // ExportTraceServiceRequest{1: ResourceSpans{1: Resource{1: KeyValue{1: key, 2: AnyValue{1: string}}}, 2:
    // ScopeSpans{2: Span{1: trace_id, 2: span_id, 4: parent_span_id, 5: name}}}}
    private static IEnumerable<ReceivedSpan> ParseTraces(byte[] request)
    {
        foreach (var resourceSpans in Fields(request).Where(f => f.Number == 1).Select(f => f.Bytes!))
        {
            var service = "";
            foreach (var field in Fields(resourceSpans))
            {
                if (field.Number == 1)
                    foreach (var attribute in Fields(field.Bytes!).Where(f => f.Number == 1).Select(f => f.Bytes!))
                    {
                        var kv = Fields(attribute).ToList();
                        var key = Encoding.UTF8.GetString(kv.FirstOrDefault(f => f.Number == 1).Bytes ?? []);
                        var value = kv.FirstOrDefault(f => f.Number == 2).Bytes is { } any
                            ? Encoding.UTF8.GetString(Fields(any).FirstOrDefault(f => f.Number == 1).Bytes ?? [])
                            : "";
                        if (key == "service.name")
                            service = value;
                    }
            }
            foreach (var scopeSpans in Fields(resourceSpans).Where(f => f.Number == 2).Select(f => f.Bytes!))
                foreach (var span in Fields(scopeSpans).Where(f => f.Number == 2).Select(f => f.Bytes!))
                {
                    var s = Fields(span).ToList();
                    string Hex(int n) => Convert.ToHexStringLower(s.FirstOrDefault(f => f.Number == n).Bytes ?? []);
                    yield return new ReceivedSpan(service, Hex(1), Hex(2), Hex(4),
                        Encoding.UTF8.GetString(s.FirstOrDefault(f => f.Number == 5).Bytes ?? []));
                }
        }
    }

    private readonly record struct Field(int Number, byte[]? Bytes);

    /// <summary>The fields of one protobuf message; only length-delimited ones carry bytes, the rest are
    /// skipped.</summary>
    private static IEnumerable<Field> Fields(byte[] message)
    {
        var at = 0;
        while (at < message.Length)
        {
            var tag = ReadVarint(message, ref at);
            var number = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    ReadVarint(message, ref at);
                    yield return new Field(number, null);
                    break;
                case 1:
                    at += 8;
                    yield return new Field(number, null);
                    break;
                case 5:
                    at += 4;
                    yield return new Field(number, null);
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref at);
                    yield return new Field(number, message[at..(at + length)]);
                    at += length;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported wire type {tag & 7}.");
            }
        }
    }

    private static ulong ReadVarint(byte[] buffer, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = buffer[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}
