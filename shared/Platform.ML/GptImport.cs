using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>A GPT built from someone else's weights, and which layout they came in.</summary>
public sealed record ImportedGpt(Gpt Model, string Layout);

/// <summary>Why weights cannot be imported: one line per missing, surplus or misshapen tensor, or missing
/// setting.</summary>
public sealed class ImportException(IReadOnlyList<string> problems) : Exception(string.Join("; ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// What an import will build, worked out from the file's header alone: every tensor the model needs is there with its
/// shape and readable bytes, nothing else is, and the settings are valid. Nothing is allocated for the model until
/// <see cref="GptImport.Import(ImportPlan)"/>, so its size can be checked against the memory first.
/// </summary>
public sealed record ImportPlan(SafetensorsFile File, string Prefix, GptConfig Config, bool Conv1d, string Layout)
{
    /// <summary>The model's parameters (its embedding padded as the platform pads it).</summary>
    public long Parameters => (long)Config.PaddedVocabSize * Config.NEmbd + (long)Config.BlockSize * Config.NEmbd
                              + Config.NonEmbeddingParameters;

    /// <summary>The model in fp32, and the largest tensor's read buffers (its bytes, then its fp32 values).</summary>
    public long PeakBytes => Parameters * 4 + File.Tensors.Values.Max(t => t.ByteLength + t.Elements * 4);
}

/// <summary>
/// Builds a platform GPT from a .safetensors file in one of three layouts: the platform's own export and nanoGPT's
/// state dict ("transformer.h.N.attn.c_attn.weight", torch.nn.Linear's (out, in) matrices), or Hugging Face's GPT-2
/// ("h.N.attn.c_attn.weight", with or without "transformer.", whose Conv1D matrices are stored transposed, (in, out)).
/// The layout is told by c_attn's shape. The shape comes from the tensors; the head count, which shapes do not say,
/// from the config JSON (n_head), else the file's metadata. GPT-2's "gelu_new" activation is kept for its layout.
/// </summary>
public static class GptImport
{
    public const string Platform = "platform", NanoGpt = "nanogpt", HuggingFaceGpt2 = "hf-gpt2";

    // Beyond these a file describes no GPT anyone trains (GPT-2 XL: 48 layers × 1600, 1,024 positions); they also keep
    // every size in an int.
    private const long MaxWidth = 1 << 16, MaxPositions = 1 << 20, MaxLayers = 1024;
    // An answer names this many problems at most, then how many more there are.
    private const int MaxProblems = 40;

    private static readonly string[] BlockMatrices = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"];

    /// <param name="vocabSize">The tokenizer's vocabulary: the embedding must have at least this many rows.</param>
    public static ImportedGpt Import(string path, int vocabSize, JsonObject? config = null) =>
        Import(Plan(path, vocabSize, config));

    /// <summary>
    /// Checks the file against the GPT it describes and says what that is, or throws <see cref="ImportException"/>
    /// naming every problem (a malformed file throws <see cref="InvalidDataException"/>).
    /// </summary>
    public static ImportPlan Plan(string path, int vocabSize, JsonObject? config = null)
    {
        var file = SafetensorsFile.Open(path);
        var names = file.Tensors.Keys.ToHashSet();
        var metadataConfig = file.Metadata.TryGetValue("config", out var json) ? TryParse(json) : null;
        string Setting(string key) => (config?[key] ?? metadataConfig?[key])?.ToString() ?? "";
        static string Shape(long[] shape) => $"[{string.Join(", ", shape)}]";

        var prefix = names.Contains("transformer.wte.weight") ? "transformer." : "";
        var (wte, wpe, attention) = (prefix + "wte.weight", prefix + "wpe.weight", prefix + "h.0.attn.c_attn.weight");
        if (!names.Contains(wte) || !names.Contains(wpe) || !names.Contains(attention))
            throw new ImportException([$"{wte}, {wpe} and {attention} are needed to recognise a GPT: missing"]);
        var (rows, nEmbd) = Matrix(file, wte);
        var (blockSize, positionsWidth) = Matrix(file, wpe);
        if (nEmbd is < 1 or > MaxWidth || positionsWidth != nEmbd || blockSize is < 1 or > MaxPositions
            || rows > int.MaxValue)
            throw new ImportException([$"{wte} [{rows}, {nEmbd}] and {wpe} [{blockSize}, {positionsWidth}] must " +
                                       $"share a width of 1 to {MaxWidth} and have 1 to {MaxPositions} positions"]);
        var layers = names.Where(n => n.StartsWith(prefix + "h.", StringComparison.Ordinal))
            .Select(n => int.TryParse(n[(prefix.Length + 2)..].Split('.')[0], out var index) ? index : -1).Max() + 1;
        // Twelve tensors a layer with biases, six without: a layer number past what the file could hold is refused
        // before each of the layers below it is named as missing.
        if (layers > MaxLayers || layers * 6L > names.Count)
            throw new ImportException([$"{prefix}h.{layers - 1}: layer numbers must run from 0 with no gap, at most " +
                                       $"{MaxLayers} layers (this file holds {names.Count} tensors)"]);
        var attentionShape = file.Tensors[attention].Shape;
        var conv1d = attentionShape.SequenceEqual([nEmbd, 3L * nEmbd]);
        if (!conv1d && !attentionShape.SequenceEqual([3L * nEmbd, nEmbd]))
            throw new ImportException([$"{attention}: shape {Shape(attentionShape)}, expected [{3 * nEmbd}, {nEmbd}] " +
                                       $"or (GPT-2's Conv1D) [{nEmbd}, {3 * nEmbd}]"]);
        var layout = conv1d ? HuggingFaceGpt2 : file.Metadata.ContainsKey("architecture") ? Platform : NanoGpt;

        var problems = new List<string>();
        if (!int.TryParse(Setting("n_head"), out var nHead) || nHead < 1 || nEmbd % nHead != 0)
            problems.Add("config: n_head is needed (the tensors' shapes do not say how many heads), and must divide " +
                         $"n_embd = {nEmbd}");
        if (rows < vocabSize)
            problems.Add($"{wte}: {rows} rows, but the tokenizer has {vocabSize} tokens");
        var bias = names.Contains(prefix + "h.0.attn.c_attn.bias");
        var activation = Setting("activation_function") is { Length: > 0 } a ? a
            : conv1d ? GptConfig.GeluTanh : GptConfig.Gelu;
        if (activation is not (GptConfig.Gelu or GptConfig.GeluTanh))
            problems.Add($"config: activation_function '{activation}' is not supported (gelu, gelu_new)");
        // The tensors are checked even when a setting is wrong (one head stands in: shapes do not depend on it), so one
        // answer names every problem.
        var settingsValid = problems.Count == 0;
        var gptConfig = new GptConfig(Math.Min(vocabSize, (int)rows), (int)blockSize, layers, settingsValid ? nHead : 1,
            (int)nEmbd, 0.0, bias, settingsValid ? activation : GptConfig.Gelu);
        var used = new HashSet<string>();
        foreach (var (name, modelShape) in ParameterShapes(gptConfig))
        {
            var external = prefix + name;
            if (!file.Tensors.TryGetValue(external, out var entry))
            {
                problems.Add($"{external}: missing");
                continue;
            }
            used.Add(external);
            var want = name == "wte.weight" ? [rows, nEmbd]
                : Transposed(conv1d, name) ? [.. modelShape.Reverse()] : modelShape;
            if (!entry.Shape.SequenceEqual(want))
                problems.Add($"{external}: shape {Shape(entry.Shape)}, expected {Shape(want)}");
            else if (entry.DType is not ("F32" or "F16" or "BF16"))
                problems.Add($"{external}: dtype {entry.DType}, expected F32, F16 or BF16");
        }
        // The tied head and GPT-2's causal-mask buffers are not weights of their own.
        static bool NotAWeight(string name) => name == "lm_head.weight"
            || name.EndsWith(".attn.bias", StringComparison.Ordinal)
            || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal);
        foreach (var surplus in names.Except(used).Where(n => !NotAWeight(n)).Order())
            problems.Add($"{surplus}: not a weight of this {layers}-layer GPT");
        if (problems.Count > MaxProblems)
            problems = [.. problems.Take(MaxProblems), $"and {problems.Count - MaxProblems} more problems"];
        if (problems.Count > 0)
            throw new ImportException(problems);
        return new ImportPlan(file, prefix, gptConfig, conv1d, layout);
    }

    /// <summary>Builds the model a plan describes and copies the file's weights into it.</summary>
    public static ImportedGpt Import(ImportPlan plan)
    {
        var model = new Gpt(plan.Config);
        try
        {
            using (no_grad())
                foreach (var (name, parameter) in model.named_parameters())
                {
                    using var value = plan.File.Read(plan.Prefix + name);
                    if (name == "wte.weight")
                        parameter.narrow(0, 0, plan.Config.VocabSize).copy_(value.narrow(0, 0, plan.Config.VocabSize));
                    else
                        parameter.copy_(Transposed(plan.Conv1d, name) ? value.t() : value);
                }
            model.eval();
            return new ImportedGpt(model, plan.Layout);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The name and shape of every parameter of a GPT of this config, as <see cref="Gpt"/> names them (its state dict,
    /// without prefix); the embedding has <see cref="GptConfig.PaddedVocabSize"/> rows.
    /// </summary>
    public static IEnumerable<(string Name, long[] Shape)> ParameterShapes(GptConfig config)
    {
        long c = config.NEmbd;
        IEnumerable<(string, long[])> Linear(string name, long outputs, long inputs) => config.Bias
            ? [($"{name}.weight", [outputs, inputs]), ($"{name}.bias", [outputs])]
            : [($"{name}.weight", [outputs, inputs])];
        IEnumerable<(string, long[])> Norm(string name) =>
            config.Bias ? [($"{name}.weight", [c]), ($"{name}.bias", [c])] : [($"{name}.weight", [c])];
        yield return ("wte.weight", [config.PaddedVocabSize, c]);
        yield return ("wpe.weight", [config.BlockSize, c]);
        for (var layer = 0; layer < config.NLayer; layer++)
        {
            var h = $"h.{layer}";
            foreach (var parameter in Norm($"{h}.ln_1").Concat(Linear($"{h}.attn.c_attn", 3 * c, c))
                         .Concat(Linear($"{h}.attn.c_proj", c, c)).Concat(Norm($"{h}.ln_2"))
                         .Concat(Linear($"{h}.mlp.c_fc", 4 * c, c)).Concat(Linear($"{h}.mlp.c_proj", c, 4 * c)))
                yield return parameter;
        }
        foreach (var parameter in Norm("ln_f"))
            yield return parameter;
    }

    // GPT-2's Conv1D stores the block's matrices as (in, out).
    private static bool Transposed(bool conv1d, string name) =>
        conv1d && BlockMatrices.Any(m => name.EndsWith(m + ".weight", StringComparison.Ordinal));

    private static (long Rows, long Columns) Matrix(SafetensorsFile file, string name)
    {
        var shape = file.Tensors[name].Shape;
        if (shape.Length != 2)
            throw new ImportException([$"{name}: shape [{string.Join(", ", shape)}], expected a matrix"]);
        return (shape[0], shape[1]);
    }

    private static JsonObject? TryParse(string json)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
