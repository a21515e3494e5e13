using Platform.Contracts;
using Platform.ServiceDefaults.Security;

namespace Training.Registry.Data;

/// <summary>A registered model version: {Name} v{Version}, produced by one run (or imported).</summary>
public sealed class ModelVersion : IOwned
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public int Version { get; set; }
    public Guid RunId { get; set; }
    public Guid DatasetId { get; set; }
    /// <summary>
    /// The datasets its weights learned from (its run's, and its base's lineage for a fine-tune; none for an import):
    /// whoever may read them all may read and use the version.
    /// </summary>
    public List<Guid> Lineage { get; set; } = [];
    /// <summary>False for a version from before sharing until the registry has announced its lineage at
    /// start.</summary>
    public bool LineageAnnounced { get; set; }
    public Guid? OwnerId { get; set; }
    public string? OwnerName { get; set; }
    public string CheckpointKey { get; set; } = "";
    public string CheckpointSha256 { get; set; } = "";
    public string TokenizerKey { get; set; } = "";
    /// <summary>"gpt" or "encoder-decoder".</summary>
    public string Architecture { get; set; } = Architectures.Gpt;
    public string? SourceTokenizerKey { get; set; }
    /// <summary>Set for a version imported from a weights file: its layout ("platform", "nanogpt" or "hf-gpt2"); RunId
    /// is then the import's id.</summary>
    public string? ImportedFrom { get; set; }
    /// <summary>A fine-tune's base version ("name/versions/N") and method ("full" or "lora"); null for a model trained
    /// from scratch.</summary>
    public string? BaseModel { get; set; }
    public string? FineTuneMethod { get; set; }
    /// <summary>The chat template (Jinja) of a version trained on conversations; null when it serves no chat.</summary>
    public string? ChatTemplate { get; set; }
    public EvaluationFigures? Evaluation { get; set; }
    /// <summary>The run's final validation loss, as recorded in training (null for an import).</summary>
    public double? ValidationLoss { get; set; }
    public string? Description { get; set; }
    public List<string> Tags { get; set; } = [];
    /// <summary>The training cost of the run that produced the version.</summary>
    public RunCost? Cost { get; set; }
    public string? Sample { get; set; }
    /// <summary>What the run trained on and how; null for an import, and for a version registered before it was
    /// recorded.</summary>
    public TrainingProvenance? Provenance { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>"int8" when Generation serves it with int8 weights; null: as trained.</summary>
    public string? Quantization { get; private set; }
    /// <summary>Changes of <see cref="Quantization"/> so far: the order of their events.</summary>
    public long QuantizationSequence { get; private set; }

    /// <summary>
    /// Sets how the version is served ("int8", or "none" for as trained), and returns the event to announce, or null
    /// when nothing changed. Only a GPT decodes with int8 weights.
    /// </summary>
    public ModelVersionQuantizationChanged? SetQuantization(string quantization, DateTimeOffset now)
    {
        var value = quantization switch
        {
            Quantizations.Int8 => Quantizations.Int8,
            Quantizations.None => null,
            _ => throw new ArgumentException($"'{quantization}' is not a quantization.", nameof(quantization)),
        };
        if (value is not null && Architecture != Architectures.Gpt)
            throw new InvalidOperationException("Only a GPT version can be served with int8 weights.");
        if (value == Quantization)
            return null;
        Quantization = value;
        QuantizationSequence++;
        return new ModelVersionQuantizationChanged(Name, Version, Quantization, QuantizationSequence, now);
    }

    /// <summary>Where its .safetensors export is kept: beside its checkpoint, so it goes with the run's or the import's
    /// files.</summary>
    public string ExportKey => $"{CheckpointKey[..CheckpointKey.LastIndexOf('/')]}/model.safetensors";

    /// <summary>Where the Hugging Face folder's model.safetensors is kept once exported (GPT-2's names and
    /// layout).</summary>
    public string HuggingFaceWeightsKey => $"{CheckpointKey[..CheckpointKey.LastIndexOf('/')]}/hf-model.safetensors";

    /// <summary>Where its GGUF export of a type (f32, f16, q8_0) is kept, beside the safetensors.</summary>
    public string GgufKey(string type) => $"{CheckpointKey[..CheckpointKey.LastIndexOf('/')]}/model-{type}.gguf";

    /// <summary>Every export it may have.</summary>
    public IEnumerable<string> ExportKeys =>
        [ExportKey, HuggingFaceWeightsKey, .. Platform.ML.Gguf.GgufExport.Types.Keys.Select(GgufKey)];

    /// <summary>The files of an imported version (a trained version's files are its run's).</summary>
    public string? ImportPrefix => ImportedFrom is null ? null : $"imports/{RunId:N}";
}
