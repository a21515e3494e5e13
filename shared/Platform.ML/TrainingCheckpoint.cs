using System.Text;
using System.Text.Json;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>Where a saved training state stands; Config is a GPT's, EncoderDecoder an encoder-decoder's.</summary>
public sealed record TrainingCheckpointHeader(GptConfig? Config, int Step, double? BestValidationLoss,
    EncoderDecoderConfig? EncoderDecoder = null)
{
    public object ModelConfig => (object?)Config ?? EncoderDecoder
        ?? throw new InvalidDataException("Training checkpoint names no model.");

    public static TrainingCheckpointHeader For(object config, int step, double? best) => config switch
    {
        GptConfig gpt => new(gpt.Shape(), step, best),
        EncoderDecoderConfig encoderDecoder => new(null, step, best, encoderDecoder.Shape()),
        _ => throw new ArgumentException($"No checkpoint format for {config.GetType().Name}.", nameof(config)),
    };

    /// <summary>Whether the checkpoint holds a model of this shape, however it computes.</summary>
    public bool Holds(object config) => ModelConfig.Equals(config switch
    {
        GptConfig gpt => gpt.Shape(),
        EncoderDecoderConfig encoderDecoder => encoderDecoder.Shape(),
        _ => config,
    });
}

/// <summary>
/// Everything needed to continue a run exactly: model weights, AdamW moments, the step, the best validation
/// loss so far, the batch generator's RNG state and the global CPU generator's, which dropout masks come from
/// (saved after that step's evaluation, so a resumed run draws the same batches and masks an uninterrupted one
/// would). Version 1 files, without the global state, still load.
/// </summary>
public static class TrainingCheckpoint
{
    private const string Magic = "PLATFORM-GPT-TRAIN-2", MagicVersion1 = "PLATFORM-GPT-TRAIN-1";

    public static void Save(Stream stream, Gpt model, OptimizerHelper optimizer, Generator generator, int step,
        double? bestValidationLoss) =>
        Save(stream, model, model.Config, optimizer, generator, step, bestValidationLoss);

    public static void Save(Stream stream, nn.Module model, object config, OptimizerHelper optimizer,
        Generator generator, int step,
        double? bestValidationLoss)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(JsonSerializer.Serialize(TrainingCheckpointHeader.For(config, step, bestValidationLoss)));
        using (var state = generator.get_state())
            WriteState(writer, state);
        using (var state = get_rng_state())
            WriteState(writer, state);
        model.save(writer);
        optimizer.save_state_dict(writer);
    }

    public static TrainingCheckpointHeader ReadHeader(Stream stream) => ReadHeader(stream, out _);

    private static TrainingCheckpointHeader ReadHeader(Stream stream, out int version)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        version = reader.ReadString() switch
        {
            Magic => 2,
            MagicVersion1 => 1,
            _ => throw new InvalidDataException("Not a platform training checkpoint."),
        };
        return JsonSerializer.Deserialize<TrainingCheckpointHeader>(reader.ReadString())
            ?? throw new InvalidDataException("Training checkpoint has no header.");
    }

    /// <summary>Loads the saved state into a model of the same config, its optimizer, the batch generator and the
    /// global generator.</summary>
    public static TrainingCheckpointHeader Restore(Stream stream, Gpt model, OptimizerHelper optimizer,
        Generator generator) =>
        Restore(stream, model, model.Config, optimizer, generator);

    public static TrainingCheckpointHeader Restore(Stream stream, nn.Module model, object config,
        OptimizerHelper optimizer, Generator generator)
    {
        var header = ReadHeader(stream, out var version);
        if (!header.Holds(config))
            throw new InvalidDataException($"Checkpoint is for {header.ModelConfig}, not {config}.");
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        using (var state = ReadState(reader))
            generator.set_state(state);
        if (version >= 2)
            using (var state = ReadState(reader))
                set_rng_state(state);
        model.load(reader);
        optimizer.load_state_dict(reader);
        return header;
    }

    /// <summary>Loads only the model's weights from a training checkpoint (e.g. the best one, to register it); the rest
    /// is skipped.</summary>
    public static TrainingCheckpointHeader RestoreWeights(Stream stream, nn.Module model, object config)
    {
        var header = ReadHeader(stream, out var version);
        if (!header.Holds(config))
            throw new InvalidDataException($"Checkpoint is for {header.ModelConfig}, not {config}.");
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        for (var states = version >= 2 ? 2 : 1; states > 0; states--)
            reader.ReadBytes(reader.ReadInt32());
        model.load(reader);
        return header;
    }

    private static void WriteState(BinaryWriter writer, Tensor state)
    {
        var bytes = state.data<byte>().ToArray();
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    private static Tensor ReadState(BinaryReader reader) =>
        tensor(reader.ReadBytes(reader.ReadInt32()), dtype: ScalarType.Byte);
}
