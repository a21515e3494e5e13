using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// What a LoRA version's file says of itself: its adapter's shape, the base's config, and which checkpoint (by artifact
/// key and sha256) it adapts, so the base is found and verified before the adapter is applied.
/// </summary>
public sealed record LoraHeader(LoraConfig Lora, GptConfig Base, string BaseCheckpointKey, string BaseCheckpointSha256,
    string BaseModel);

/// <summary>A LoRA version's file: a magic tag, the header as JSON, then the adapter's weights only (never the
/// base's).</summary>
public static class LoraCheckpoint
{
    public const string Magic = "PLATFORM-LORA-1";

    public static void Save(LoraAdapter adapter, LoraHeader header, Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(JsonSerializer.Serialize(header));
        adapter.save(writer);
    }

    /// <summary>The header of a LoRA file, or null when the file is a full checkpoint.</summary>
    public static LoraHeader? ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadString() != Magic)
            return null;
        return JsonSerializer.Deserialize<LoraHeader>(reader.ReadString())
            ?? throw new InvalidDataException("LoRA file has no header.");
    }

    public static (LoraHeader Header, LoraAdapter Adapter) Load(string path, Device? device = null)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadString() != Magic)
            throw new InvalidDataException("Not a LoRA adapter file.");
        var header = JsonSerializer.Deserialize<LoraHeader>(reader.ReadString())
            ?? throw new InvalidDataException("LoRA file has no header.");
        var adapter = new LoraAdapter(header.Base, header.Lora);
        adapter.load(reader);
        if (device is not null)
            adapter.to(device);
        adapter.eval();
        return (header, adapter);
    }
}
