using System.Security.Cryptography;
using System.Text;

namespace Gateway.Idempotency;

/// <summary>
/// Feeds a multipart body to a hash with every occurrence of "--{boundary}" replaced by "--{fixed}", however the
/// body is split into reads: the last (pattern length − 1) bytes wait for the next read, in case a boundary spans it.
/// </summary>
public sealed class BoundaryNormaliser(string boundary)
{
    private static readonly byte[] Fixed = Encoding.ASCII.GetBytes("--platform-boundary");
    private readonly byte[] _pattern = Encoding.ASCII.GetBytes("--" + boundary);
    private byte[] _pending = [];

    public void Append(ReadOnlySpan<byte> data, IncrementalHash hash)
    {
        var buffer = new byte[_pending.Length + data.Length];
        _pending.CopyTo(buffer, 0);
        data.CopyTo(buffer.AsSpan(_pending.Length));
        var keep = Math.Min(buffer.Length, _pattern.Length - 1);
        var start = 0;
        while (true)
        {
            var found = buffer.AsSpan(start).IndexOf(_pattern);
            // A match must lie wholly before the kept tail, or it may still grow into a longer read.
            if (found < 0 || start + found + _pattern.Length > buffer.Length)
                break;
            hash.AppendData(buffer.AsSpan(start, found));
            hash.AppendData(Fixed);
            start += found + _pattern.Length;
        }
        var emitUpTo = Math.Max(start, buffer.Length - keep);
        hash.AppendData(buffer.AsSpan(start, emitUpTo - start));
        _pending = buffer[emitUpTo..];
    }

    public void Flush(IncrementalHash hash)
    {
        hash.AppendData(_pending);
        _pending = [];
    }
}
