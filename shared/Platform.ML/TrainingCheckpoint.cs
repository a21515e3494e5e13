using System.Text;
using System.Text.Json;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>Where a saved training state stands.</summary>
public sealed record TrainingCheckpointHeader(GptConfig Config, int Step, double? BestValidationLoss);

/// <summary>
/// Everything needed to continue a run exactly: model weights, AdamW moments, the step, the best validation
/// loss so far and the batch generator's RNG state (saved after that step's evaluation, so a resumed run
/// draws the same batches an uninterrupted one would).
/// </summary>
public static class TrainingCheckpoint
{
    private const string Magic = "PLATFORM-GPT-TRAIN-1";

    public static void Save(Stream stream, Gpt model, OptimizerHelper optimizer, Generator generator, int step, double? bestValidationLoss)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(JsonSerializer.Serialize(new TrainingCheckpointHeader(model.Config, step, bestValidationLoss)));
        using (var state = generator.get_state())
        {
            var bytes = state.data<byte>().ToArray();
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }
        model.save(writer);
        optimizer.save_state_dict(writer);
    }

    public static TrainingCheckpointHeader ReadHeader(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadString() != Magic)
            throw new InvalidDataException("Not a platform training checkpoint.");
        return JsonSerializer.Deserialize<TrainingCheckpointHeader>(reader.ReadString())
            ?? throw new InvalidDataException("Training checkpoint has no header.");
    }

    /// <summary>Loads the saved state into a model of the same config, its optimizer and the batch generator.</summary>
    public static TrainingCheckpointHeader Restore(Stream stream, Gpt model, OptimizerHelper optimizer, Generator generator)
    {
        var header = ReadHeader(stream);
        if (header.Config != model.Config)
            throw new InvalidDataException($"Checkpoint is for {header.Config}, not {model.Config}.");
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var bytes = reader.ReadBytes(reader.ReadInt32());
        using (var state = tensor(bytes, dtype: ScalarType.Byte))
            generator.set_state(state);
        model.load(reader);
        optimizer.load_state_dict(reader);
        return header;
    }
}
