using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>A tensor's entry in a .safetensors header, checked: its bytes are its shape's, in the file.</summary>
public sealed record SafetensorsEntry(string DType, long[] Shape, long Begin, long End)
{
    /// <summary>Bytes of one element of each dtype the format defines.</summary>
    public static readonly IReadOnlyDictionary<string, int> ElementBytes = new Dictionary<string, int>
    {
        ["F64"] = 8,
        ["F32"] = 4,
        ["F16"] = 2,
        ["BF16"] = 2,
        ["F8_E4M3"] = 1,
        ["F8_E5M2"] = 1,
        ["I64"] = 8,
        ["I32"] = 4,
        ["I16"] = 2,
        ["I8"] = 1,
        ["U64"] = 8,
        ["U32"] = 4,
        ["U16"] = 2,
        ["U8"] = 1,
        ["BOOL"] = 1,
    };

    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
    public long ByteLength => End - Begin;
}

/// <summary>
/// Reads a .safetensors file: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape
/// and byte range, then the raw little-endian data. F32, F16 and BF16 tensors are read as fp32. Opening checks the
/// whole header against the file before anything is read or allocated for a tensor: each byte range must hold exactly
/// its shape × dtype (in checked arithmetic), lie inside the file and overlap no other.
/// </summary>
public sealed class SafetensorsFile
{
    private const long MaxHeaderBytes = 100L << 20;
    private const int MaxDimensions = 8;
    private readonly string _path;
    private readonly long _dataStart;

    public IReadOnlyDictionary<string, SafetensorsEntry> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsFile(string path, long dataStart, Dictionary<string, SafetensorsEntry> tensors,
        Dictionary<string, string> metadata) =>
        (_path, _dataStart, Tensors, Metadata) = (path, dataStart, tensors, metadata);

    public static SafetensorsFile Open(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> prefix = stackalloc byte[8];
        if (stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
            throw new InvalidDataException("The weights file is too short to be safetensors.");
        var length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length == 0 || length > MaxHeaderBytes || 8 + (long)length > stream.Length)
            throw new InvalidDataException("The weights file is not safetensors: its header length is out of range.");
        var header = new byte[length];
        stream.ReadExactly(header);
        var tensors = new Dictionary<string, SafetensorsEntry>();
        var metadata = new Dictionary<string, string>();
        try
        {
            using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(header).TrimEnd(' ', '\0'));
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException("The weights file's safetensors header is not a JSON object.");
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new InvalidDataException("The weights file's __metadata__ is not a JSON object.");
                    foreach (var m in property.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()!
                            : m.Value.GetRawText();
                    continue;
                }
                tensors[property.Name] = Entry(property.Name, property.Value);
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException
                                   or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"The weights file's safetensors header cannot be read: {ex.Message}");
        }
        var dataStart = 8 + (long)length;
        var dataLength = stream.Length - dataStart;
        SafetensorsEntry? previous = null;
        string? previousName = null;
        foreach (var (name, entry) in tensors.OrderBy(t => t.Value.Begin).ThenBy(t => t.Value.End))
        {
            if (entry.End > dataLength)
                throw new InvalidDataException($"Tensor {name}'s bytes ({entry.Begin}–{entry.End}) lie outside the " +
                                               $"file's {dataLength} bytes of data: the file is truncated or its " +
                                               "header is wrong.");
            if (previous is not null && entry.Begin < previous.End)
                throw new InvalidDataException($"Tensors {previousName} and {name} overlap " +
                                               $"({previous.Begin}–{previous.End} and " +
                                               $"{entry.Begin}–{entry.End}).");
            (previous, previousName) = (entry, name);
        }
        return new SafetensorsFile(path, dataStart, tensors, metadata);
    }

    /// <summary>One header entry, checked on its own: a known dtype, a shape whose bytes fill its range.</summary>
    private static SafetensorsEntry Entry(string name, JsonElement value)
    {
        InvalidDataException Bad(string why) => new($"Tensor {name}: {why}");
        if (value.ValueKind != JsonValueKind.Object)
            throw Bad("its entry is not a JSON object.");
        var dtype = value.GetProperty("dtype").GetString() ?? throw Bad("dtype is missing.");
        if (!SafetensorsEntry.ElementBytes.TryGetValue(dtype, out var width))
            throw Bad($"dtype '{dtype}' is not one of safetensors' " +
                      $"({string.Join(", ", SafetensorsEntry.ElementBytes.Keys)}).");
        var shapeElement = value.GetProperty("shape");
        if (shapeElement.ValueKind != JsonValueKind.Array || shapeElement.GetArrayLength() > MaxDimensions)
            throw Bad($"shape must be an array of at most {MaxDimensions} sizes.");
        static long Size(JsonElement e) =>
            e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var n) && n >= 0 ? n : -1;
        var shape = shapeElement.EnumerateArray().Select(Size).ToArray();
        if (shape.Any(size => size < 0))
            throw Bad("shape must hold whole sizes of 0 or more.");
        var offsetsElement = value.GetProperty("data_offsets");
        if (offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
            throw Bad("data_offsets must be [begin, end].");
        var offsets = offsetsElement.EnumerateArray().Select(Size).ToArray();
        if (offsets[0] < 0 || offsets[1] < offsets[0])
            throw Bad("data_offsets must be [begin, end] with 0 ≤ begin ≤ end.");
        long bytes;
        try
        {
            bytes = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * width);
        }
        catch (OverflowException)
        {
            throw Bad($"shape [{string.Join(", ", shape)}] is too large to exist.");
        }
        if (offsets[1] - offsets[0] != bytes)
            throw Bad($"holds {offsets[1] - offsets[0]} bytes, but a {dtype} tensor of shape " +
                      $"[{string.Join(", ", shape)}] " +
                      $"takes {bytes}.");
        return new SafetensorsEntry(dtype, shape, offsets[0], offsets[1]);
    }

    /// <summary>The tensor as fp32, in the file's shape.</summary>
    public Tensor Read(string name)
    {
        var entry = Tensors[name];
        if (entry.DType is not ("F32" or "F16" or "BF16"))
            throw new InvalidDataException($"Tensor {name} is {entry.DType}; F32, F16 and BF16 are read.");
        var count = entry.Elements;
        var bytes = new byte[entry.ByteLength];
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
