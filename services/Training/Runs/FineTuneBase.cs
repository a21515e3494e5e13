using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ML;
using Platform.Storage;
using Training.Registry;

namespace Training.Runs;

/// <summary>The version a fine-tune starts from: its registry entry, its model's config, and its LoRA header when it is
/// an adapter.</summary>
public sealed record FineTuneBase(RegisteredVersion Version, object Config, LoraHeader? Lora)
{
    public string Reference => Version.Reference;

    /// <summary>
    /// The version a reference names ("name": the latest; "name@alias": where the alias points now), with the config
    /// read from its checkpoint's header; null when there is no such version.
    /// </summary>
    public static async Task<FineTuneBase?> FindAsync(ModelRegistry registry, ArtifactStore store,
        ModelReference reference, CancellationToken cancellationToken)
    {
        var version = await registry.FindAsync(reference, cancellationToken);
        if (version is null || !store.Exists(version.CheckpointKey))
            return null;
        var (config, lora) = Checkpoint.ReadConfig(store.PathOf(version.CheckpointKey));
        return new FineTuneBase(version, config, lora);
    }

    /// <summary>The base's architecture as a run spec's model section.</summary>
    public ModelSpec Model => Config switch
    {
        GptConfig g => new ModelSpec
        {
            Architecture = Architectures.Gpt,
            NLayer = g.NLayer,
            NHead = g.NHead,
            NEmbd = g.NEmbd,
            BlockSize = g.BlockSize,
            Dropout = g.Dropout,
            Bias = g.Bias,
        },
        EncoderDecoderConfig e => new ModelSpec
        {
            Architecture = Architectures.EncoderDecoder,
            NEncoderLayer = e.NEncoderLayer,
            NDecoderLayer = e.NDecoderLayer,
            NHead = e.NHead,
            NEmbd = e.NEmbd,
            MaxSourceLength = e.MaxSourceLength,
            MaxTargetLength = e.MaxTargetLength,
            SharedEmbeddings = e.SharedEmbeddings,
            Dropout = e.Dropout,
            Bias = e.Bias,
        },
        _ => throw new InvalidDataException($"Unknown model config {Config.GetType().Name}."),
    };

    /// <summary>
    /// The fine-tune's model section: the base's, with what the request set on top. Only dropout, and a GPT's blockSize
    /// up to the base's, may differ; any other field set to something else is an error naming it.
    /// </summary>
    public (ModelSpec? Model, Dictionary<string, string[]> Errors) Merge(JsonObject? requested,
        JsonSerializerOptions options)
    {
        var baseModel = Model;
        var merged = JsonSerializer.SerializeToNode(baseModel, options)!.AsObject();
        var errors = new Dictionary<string, string[]>();
        var blockSize = baseModel.Architecture == Architectures.Gpt
            ? $", and a blockSize up to {baseModel.BlockSize},"
            : "";
        foreach (var (key, value) in requested ?? [])
        {
            var current = merged.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase));
            if (current.Key is null)
                continue;  // unknown fields are ignored, as for any request
            var changeable = current.Key == "dropout"
                             || (current.Key == "blockSize" && baseModel.Architecture == Architectures.Gpt
                                 && value?.GetValueKind() == JsonValueKind.Number
                                 && value.GetValue<double>() <= baseModel.BlockSize);
            if (changeable)
                merged[current.Key] = value!.DeepClone();
            else if (!JsonNode.DeepEquals(value, current.Value))
                errors[$"model.{current.Key}"] =
                [
                    $"is {current.Value?.ToJsonString() ?? "null"} in {Reference}, which this run starts from: a " +
                    $"fine-tune keeps its base's shape (only dropout{blockSize} may change).",
                ];
        }
        return errors.Count > 0 ? (null, errors) : (merged.Deserialize<ModelSpec>(options), errors);
    }
}
