using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>A GPT built from someone else's weights, and which layout they came in.</summary>
public sealed record ImportedGpt(Gpt Model, string Layout);

/// <summary>Why weights cannot be imported: one line per missing, surplus or misshapen tensor, or missing setting.</summary>
public sealed class ImportException(IReadOnlyList<string> problems) : Exception(string.Join("; ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// Builds a platform GPT from a .safetensors file in one of three layouts: the platform's own export and nanoGPT's state
/// dict ("transformer.h.N.attn.c_attn.weight", torch.nn.Linear's (out, in) matrices), or Hugging Face's GPT-2
/// ("h.N.attn.c_attn.weight", with or without "transformer.", whose Conv1D matrices are stored transposed, (in, out)).
/// The layout is told by c_attn's shape. The shape comes from the tensors; the head count, which shapes do not say,
/// from the config JSON (n_head), else the file's metadata. GPT-2's "gelu_new" activation is kept for its layout.
/// </summary>
public static class GptImport
{
    public const string Platform = "platform", NanoGpt = "nanogpt", HuggingFaceGpt2 = "hf-gpt2";

    private static readonly string[] BlockMatrices = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"];

    /// <param name="vocabSize">The tokenizer's vocabulary: the embedding must have at least this many rows.</param>
    public static ImportedGpt Import(string path, int vocabSize, JsonObject? config = null)
    {
        var file = SafetensorsFile.Open(path);
        var names = file.Tensors.Keys.ToHashSet();
        var metadataConfig = file.Metadata.TryGetValue("config", out var json) ? TryParse(json) : null;
        string Setting(string key) => (config?[key] ?? metadataConfig?[key])?.ToString() ?? "";

        var prefix = names.Contains("transformer.wte.weight") ? "transformer." : "";
        var problems = new List<string>();
        if (!names.Contains(prefix + "wte.weight") || !names.Contains(prefix + "wpe.weight") || !names.Contains(prefix + "h.0.attn.c_attn.weight"))
            throw new ImportException([$"{prefix}wte.weight, {prefix}wpe.weight and {prefix}h.0.attn.c_attn.weight are needed to recognise a GPT: missing"]);
        var (rows, nEmbd) = Matrix(file, prefix + "wte.weight");
        var blockSize = (int)file.Tensors[prefix + "wpe.weight"].Shape[0];
        var layers = names.Select(n => n.StartsWith(prefix + "h.", StringComparison.Ordinal) ? n[(prefix.Length + 2)..].Split('.')[0] : null)
            .Where(n => n is not null && int.TryParse(n, out _)).Select(int.Parse!).DefaultIfEmpty(-1).Max() + 1;
        var attentionShape = file.Tensors[prefix + "h.0.attn.c_attn.weight"].Shape;
        var conv1d = attentionShape.SequenceEqual([nEmbd, 3L * nEmbd]);
        if (!conv1d && !attentionShape.SequenceEqual([3L * nEmbd, nEmbd]))
            throw new ImportException([$"{prefix}h.0.attn.c_attn.weight: shape [{string.Join(", ", attentionShape)}], expected [{3 * nEmbd}, {nEmbd}] or (GPT-2's Conv1D) [{nEmbd}, {3 * nEmbd}]"]);
        var layout = conv1d ? HuggingFaceGpt2 : file.Metadata.ContainsKey("architecture") ? Platform : NanoGpt;

        if (!int.TryParse(Setting("n_head"), out var nHead) || nHead < 1 || nEmbd % nHead != 0)
            problems.Add($"config: n_head is needed (the tensors' shapes do not say how many heads), and must divide n_embd = {nEmbd}");
        if (rows < vocabSize)
            problems.Add($"{prefix}wte.weight: {rows} rows, but the tokenizer has {vocabSize} tokens");
        var bias = names.Contains(prefix + "h.0.attn.c_attn.bias");
        var activation = Setting("activation_function") is { Length: > 0 } a ? a : conv1d ? GptConfig.GeluTanh : GptConfig.Gelu;
        if (activation is not (GptConfig.Gelu or GptConfig.GeluTanh))
            problems.Add($"config: activation_function '{activation}' is not supported (gelu, gelu_new)");
        // The tensors are checked even when a setting is wrong (one head stands in: shapes do not depend on it), so one
        // answer names every problem.
        var settingsValid = problems.Count == 0;
        var gptConfig = new GptConfig(Math.Min(vocabSize, (int)rows), blockSize, layers, settingsValid ? nHead : 1, (int)nEmbd, 0.0, bias,
            settingsValid ? activation : GptConfig.Gelu);
        var model = new Gpt(gptConfig);
        try
        {
            var expected = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            var used = new HashSet<string>();
            using (no_grad())
                foreach (var (name, parameter) in expected)
                {
                    var external = prefix + name;
                    if (!names.Contains(external))
                    {
                        problems.Add($"{external}: missing");
                        continue;
                    }
                    used.Add(external);
                    var transposed = conv1d && name.EndsWith(".weight", StringComparison.Ordinal) && BlockMatrices.Any(m => name.EndsWith(m + ".weight", StringComparison.Ordinal));
                    var want = name == "wte.weight" ? [rows, nEmbd] : transposed ? parameter.shape.Reverse().ToArray() : parameter.shape;
                    var shape = file.Tensors[external].Shape;
                    if (!shape.SequenceEqual(want))
                    {
                        problems.Add($"{external}: shape [{string.Join(", ", shape)}], expected [{string.Join(", ", want)}]");
                        continue;
                    }
                    using var value = file.Read(external);
                    if (name == "wte.weight")
                        parameter.narrow(0, 0, gptConfig.VocabSize).copy_(value.narrow(0, 0, gptConfig.VocabSize));
                    else
                        parameter.copy_(transposed ? value.t() : value);
                }
            // The tied head and GPT-2's causal-mask buffers are not weights of their own.
            foreach (var surplus in names.Except(used).Where(n => n != "lm_head.weight" && !n.EndsWith(".attn.bias", StringComparison.Ordinal)
                                                                  && !n.EndsWith(".attn.masked_bias", StringComparison.Ordinal)).Order())
                problems.Add($"{surplus}: not a weight of this {layers}-layer GPT");
            if (problems.Count > 0)
                throw new ImportException(problems);
            model.eval();
            return new ImportedGpt(model, layout);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

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
