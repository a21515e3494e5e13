using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// One file: a magic tag, the config as JSON, then the weights in TorchSharp's format, so a checkpoint is
/// self-describing and its sha256 covers everything needed to rebuild the model.
/// </summary>
public static class Checkpoint
{
    private const string Magic = "PLATFORM-GPT-1", EncoderDecoderMagic = "PLATFORM-ENCODER-DECODER-1";

    public static void Save(Gpt model, Stream stream) =>
        Save(model, Magic, JsonSerializer.Serialize(model.Config), stream);

    public static void Save(EncoderDecoder model, Stream stream) =>
        Save(model, EncoderDecoderMagic, JsonSerializer.Serialize(model.Config), stream);

    /// <summary>Either family, whichever the module is (the counterpart of <see cref="LoadAny(Stream,
    /// Device?)"/>).</summary>
    public static void Save(nn.Module model, Stream stream)
    {
        switch (model)
        {
            case Gpt gpt:
                Save(gpt, stream);
                break;
            case EncoderDecoder encoderDecoder:
                Save(encoderDecoder, stream);
                break;
            default:
                throw new ArgumentException($"No checkpoint format for {model.GetType().Name}.", nameof(model));
        }
    }

    private static void Save(nn.Module model, string magic, string config, Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(magic);
        writer.Write(config);
        model.save(writer);
    }

    public static Gpt Load(Stream stream, Device? device = null) =>
        LoadAny(stream, device) as Gpt ?? throw new InvalidDataException("Not a platform GPT checkpoint.");

    public static Gpt Load(string path, Device? device = null)
    {
        using var stream = File.OpenRead(path);
        return Load(stream, device);
    }

    /// <summary>A GPT or an encoder-decoder, whichever the file holds, in eval mode.</summary>
    public static nn.Module LoadAny(Stream stream, Device? device = null)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        nn.Module model = reader.ReadString() switch
        {
            Magic => new Gpt(JsonSerializer.Deserialize<GptConfig>(reader.ReadString())
                ?? throw new InvalidDataException("Checkpoint has no config.")),
            EncoderDecoderMagic =>
            new EncoderDecoder(JsonSerializer.Deserialize<EncoderDecoderConfig>(reader.ReadString())
                                                      ?? throw new InvalidDataException("Checkpoint has no config.")),
            _ => throw new InvalidDataException("Not a platform model checkpoint."),
        };
        model.load(reader);
        if (device is not null)
            model.to(device);
        model.eval();
        return model;
    }

    /// <summary>
    /// The config a model file describes without loading its weights: a GPT's or an encoder-decoder's, and for a LoRA
    /// adapter its base's (with the adapter's header).
    /// </summary>
    public static (object Config, LoraHeader? Lora) ReadConfig(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var magic = reader.ReadString();
        var json = reader.ReadString();
        return magic switch
        {
            Magic => (JsonSerializer.Deserialize<GptConfig>(json)!, null),
            EncoderDecoderMagic => (JsonSerializer.Deserialize<EncoderDecoderConfig>(json)!, null),
            LoraCheckpoint.Magic when JsonSerializer.Deserialize<LoraHeader>(json) is { } lora => (lora.Base, lora),
            _ => throw new InvalidDataException("Not a platform model checkpoint."),
        };
    }

    public static nn.Module LoadAny(string path, Device? device = null)
    {
        using var stream = File.OpenRead(path);
        return LoadAny(stream, device);
    }
}
