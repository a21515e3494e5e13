using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Platform.ML.Gguf;

/// <summary>ggml's tensor types that an export writes (their numbers are ggml's <c>ggml_type</c>).</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,

    /// <summary>Blocks of 32 weights: one f16 scale (the block's largest magnitude / 127), then 32 signed
    /// bytes.</summary>
    Q8_0 = 8,
}

/// <summary>
/// Writes a GGUF file (version 3): the magic "GGUF", the version, the tensor and key counts, the metadata
/// (key, value type, value), each tensor's name, dimensions (ggml's order: the fastest-moving first), type and offset,
/// then the tensor data, each tensor aligned to 32 bytes from the start of the data section. Tensor values are asked
/// for one tensor at a time while writing, so a large model is never held twice.
/// </summary>
public sealed class GgufWriter
{
    public const int Alignment = 32;
    public const int Q8BlockSize = Q8Blocks.Size;

    private enum ValueType : uint
    {
        UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7, String = 8, Array = 9,
    }

    private readonly List<(string Key, Action<BinaryWriter> Write)> _metadata = [];
    private readonly List<Tensor> _tensors = [];

    private sealed record Tensor(string Name, long[] Dimensions, GgmlType Type, Func<float[]> Values)
    {
        public long Bytes => Type switch
        {
            GgmlType.F32 => Elements * 4,
            GgmlType.F16 => Elements * 2,
            GgmlType.Q8_0 => Elements / Q8BlockSize * (2 + Q8BlockSize),
            _ => throw new ArgumentOutOfRangeException(nameof(Type)),
        };

        public long Elements => Dimensions.Aggregate(1L, (a, b) => a * b);
    }

    public void Add(string key, string value) => Add(key, ValueType.String, w => WriteString(w, value));
    public void Add(string key, uint value) => Add(key, ValueType.UInt32, w => w.Write(value));
    public void Add(string key, float value) => Add(key, ValueType.Float32, w => w.Write(value));
    public void Add(string key, bool value) => Add(key, ValueType.Bool, w => w.Write(value));

    public void Add(string key, IReadOnlyList<string> values) => Add(key, ValueType.Array, w =>
    {
        w.Write((uint)ValueType.String);
        w.Write((ulong)values.Count);
        foreach (var value in values)
            WriteString(w, value);
    });

    public void Add(string key, IReadOnlyList<int> values) => Add(key, ValueType.Array, w =>
    {
        w.Write((uint)ValueType.Int32);
        w.Write((ulong)values.Count);
        foreach (var value in values)
            w.Write(value);
    });

    /// <summary>
    /// A tensor of the given dimensions in ggml's order (a row-major matrix [rows, columns] is {columns, rows}), whose
    /// values <paramref name="values"/> gives in memory order when the tensor is written. Q8_0 needs the first
    /// dimension to be a multiple of 32.
    /// </summary>
    public void AddTensor(string name, long[] dimensions, GgmlType type, Func<float[]> values)
    {
        if (type == GgmlType.Q8_0 && dimensions[0] % Q8BlockSize != 0)
            throw new ArgumentException($"{name}: Q8_0 needs rows of a multiple of {Q8BlockSize} values.",
                nameof(dimensions));
        _tensors.Add(new Tensor(name, dimensions, type, values));
    }

    public void WriteTo(Stream output)
    {
        // The header goes through memory first (its length decides the padding before the data, and an HTTP body
        // cannot tell its position); it holds the vocabulary but no weights.
        using var header = new MemoryStream();
        using (var headerWriter = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true))
            WriteHeader(headerWriter);
        header.Position = 0;
        header.CopyTo(output);
        using var writer = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true);
        var position = Pad(writer, header.Length);
        foreach (var tensor in _tensors)
        {
            var values = tensor.Values();
            if (values.Length != tensor.Elements)
                throw new InvalidOperationException(
                    $"{tensor.Name}: {values.Length} values for {tensor.Elements} elements.");
            var bytes = Encode(values, tensor.Type);
            writer.Write(bytes);
            position = Pad(writer, position + bytes.Length);
        }
    }

    /// <summary>Q8_0 (<see cref="Q8Blocks"/>): per block of 32, the f16 scale, then 32 signed bytes.</summary>
    public static byte[] QuantizeQ8_0(ReadOnlySpan<float> values)
    {
        var blocks = values.Length / Q8BlockSize;
        var bytes = new byte[blocks * (2 + Q8BlockSize)];
        for (var b = 0; b < blocks; b++)
        {
            var at = b * (2 + Q8BlockSize);
            var scale = Q8Blocks.Quantize(values.Slice(b * Q8BlockSize, Q8BlockSize),
                MemoryMarshal.Cast<byte, sbyte>(bytes.AsSpan(at + 2, Q8BlockSize)));
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(at), scale);
        }
        return bytes;
    }

    private static byte[] Encode(float[] values, GgmlType type)
    {
        switch (type)
        {
            case GgmlType.F32:
                var f32 = new byte[values.Length * 4];
                for (var i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(f32.AsSpan(i * 4), values[i]);
                return f32;
            case GgmlType.F16:
                var f16 = new byte[values.Length * 2];
                for (var i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteHalfLittleEndian(f16.AsSpan(i * 2), (Half)values[i]);
                return f16;
            default:
                return QuantizeQ8_0(values);
        }
    }

    private void Add(string key, ValueType type, Action<BinaryWriter> write)
    {
        void Entry(BinaryWriter writer)
        {
            writer.Write((uint)type);
            write(writer);
        }
        _metadata.Add((key, Entry));
    }

    private void WriteHeader(BinaryWriter writer)
    {
        writer.Write("GGUF"u8);
        writer.Write(3u);
        writer.Write((ulong)_tensors.Count);
        writer.Write((ulong)_metadata.Count);
        foreach (var (key, write) in _metadata)
        {
            WriteString(writer, key);
            write(writer);
        }
        long offset = 0;
        foreach (var tensor in _tensors)
        {
            WriteString(writer, tensor.Name);
            writer.Write((uint)tensor.Dimensions.Length);
            foreach (var dimension in tensor.Dimensions)
                writer.Write((ulong)dimension);
            writer.Write((uint)tensor.Type);
            writer.Write((ulong)offset);
            offset = Aligned(offset + tensor.Bytes);
        }
    }

    private static long Pad(BinaryWriter writer, long position)
    {
        var aligned = Aligned(position);
        for (var i = position; i < aligned; i++)
            writer.Write((byte)0);
        return aligned;
    }

    private static long Aligned(long at) => (at + Alignment - 1) / Alignment * Alignment;

    private static void WriteString(BinaryWriter writer, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }
}
