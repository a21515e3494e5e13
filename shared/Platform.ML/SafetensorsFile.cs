using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>One tensor's entry in a .safetensors header.</summary>
public sealed record SafetensorsEntry(string DType, long[] Shape, long Begin, long End);

/// <summary>
/// Reads a .safetensors file: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
/// byte range, then the raw little-endian data. F32, F16 and BF16 tensors are read as fp32.
/// </summary>
public sealed class SafetensorsFile
{
    private const long MaxHeaderBytes = 100L << 20;
    private readonly string _path;
    private readonly long _dataStart;

    public IReadOnlyDictionary<string, SafetensorsEntry> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsFile(string path, long dataStart, Dictionary<string, SafetensorsEntry> tensors, Dictionary<string, string> metadata) =>
        (_path, _dataStart, Tensors, Metadata) = (path, dataStart, tensors, metadata);

    public static SafetensorsFile Open(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> prefix = stackalloc byte[8];
        if (stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
            throw new InvalidDataException("The weights file is too short to be safetensors.");
        var length = (long)BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length <= 0 || length > MaxHeaderBytes || 8 + length > stream.Length)
            throw new InvalidDataException("The weights file is not safetensors: its header length is out of range.");
        var header = new byte[length];
        stream.ReadExactly(header);
        var tensors = new Dictionary<string, SafetensorsEntry>();
        var metadata = new Dictionary<string, string>();
        try
        {
            using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(header).TrimEnd(' ', '\0'));
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    foreach (var m in property.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                    continue;
                }
                var offsets = property.Value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
                tensors[property.Name] = new SafetensorsEntry(property.Value.GetProperty("dtype").GetString()!,
                    property.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(), offsets[0], offsets[1]);
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"The weights file's safetensors header cannot be read: {ex.Message}");
        }
        var dataStart = 8 + length;
        foreach (var (name, entry) in tensors)
            if (entry.Begin < 0 || entry.End < entry.Begin || dataStart + entry.End > stream.Length)
                throw new InvalidDataException($"Tensor {name}'s bytes lie outside the file.");
        return new SafetensorsFile(path, dataStart, tensors, metadata);
    }

    /// <summary>The tensor as fp32, in the file's shape.</summary>
    public Tensor Read(string name)
    {
        var entry = Tensors[name];
        var count = entry.Shape.Aggregate(1L, (a, b) => a * b);
        var width = entry.DType switch
        {
            "F32" => 4,
            "F16" or "BF16" => 2,
            _ => throw new InvalidDataException($"Tensor {name} is {entry.DType}; F32, F16 and BF16 are read."),
        };
        if (entry.End - entry.Begin != count * width)
            throw new InvalidDataException($"Tensor {name} holds {entry.End - entry.Begin} bytes; its shape and dtype need {count * width}.");
        var bytes = new byte[entry.End - entry.Begin];
        using (var stream = File.OpenRead(_path))
        {
            stream.Position = _dataStart + entry.Begin;
            stream.ReadExactly(bytes);
        }
        var values = new float[count];
        for (var i = 0; i < count; i++)
            values[i] = entry.DType switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4)),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan(i * 2)),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2)) << 16),
            };
        return tensor(values, entry.Shape);
    }
}
