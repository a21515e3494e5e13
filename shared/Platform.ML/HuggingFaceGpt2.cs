using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// A platform GPT as Hugging Face's GPT-2 (<c>GPT2LMHeadModel</c>): the config under the field names of GPT-2's
/// published config.json, and the weights under the names <c>save_pretrained</c> writes for it
/// ("transformer.wte.weight", "transformer.h.0.attn.c_attn.weight", …; the head is tied to the embedding and not
/// stored). GPT-2's linear layers are Conv1D modules, whose matrices are stored (in, out), the transpose of
/// torch.nn.Linear's. The embedding keeps only the tokenizer's rows (the platform pads it to a multiple of 64). A model
/// trained without biases gets zero biases, which compute the same.
/// </summary>
public static class HuggingFaceGpt2
{
    private const string Prefix = "transformer.";

    private static readonly string[] Conv1dMatrices = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"];

    /// <summary>config.json. Dropout is the training run's; GPT-2's loaders use it only when training.</summary>
    public static JsonObject Config(GptConfig c, int? bosTokenId, int? eosTokenId) => new()
    {
        ["architectures"] = new JsonArray("GPT2LMHeadModel"),
        ["model_type"] = "gpt2",
        ["vocab_size"] = c.VocabSize,
        ["n_positions"] = c.BlockSize,
        ["n_ctx"] = c.BlockSize,
        ["n_embd"] = c.NEmbd,
        ["n_layer"] = c.NLayer,
        ["n_head"] = c.NHead,
        // GPT2Config takes "gelu" (exact, as nanoGPT trains) and "gelu_new" (GPT-2's tanh approximation) alike.
        ["activation_function"] = c.Activation,
        ["resid_pdrop"] = c.Dropout,
        ["embd_pdrop"] = c.Dropout,
        ["attn_pdrop"] = c.Dropout,
        ["layer_norm_epsilon"] = 1e-5,
        ["initializer_range"] = 0.02,
        ["bos_token_id"] = bosTokenId,
        ["eos_token_id"] = eosTokenId,
    };

    /// <summary>The tensor names, in GPT-2's layout, that a model of <paramref name="layers"/> layers is written
    /// under.</summary>
    public static IEnumerable<string> TensorNames(int layers)
    {
        yield return "transformer.wte.weight";
        yield return "transformer.wpe.weight";
        for (var layer = 0; layer < layers; layer++)
        {
            foreach (var norm in new[] { "ln_1", "ln_2" })
            {
                yield return $"transformer.h.{layer}.{norm}.weight";
                yield return $"transformer.h.{layer}.{norm}.bias";
            }
            foreach (var matrix in Conv1dMatrices)
            {
                yield return $"transformer.h.{layer}.{matrix}.weight";
                yield return $"transformer.h.{layer}.{matrix}.bias";
            }
        }
        yield return "transformer.ln_f.weight";
        yield return "transformer.ln_f.bias";
    }

    /// <summary>model.safetensors, with the config in the header's metadata too.</summary>
    public static void WriteWeights(Gpt model, Stream output)
    {
        using var scope = NewDisposeScope();
        var config = model.Config;
        var state = model.state_dict().ToDictionary(p => Prefix + p.Key, p => p.Value.detach());
        var unknown = state.Keys.Except(TensorNames(config.NLayer)).ToList();
        if (unknown.Count > 0)
            throw new InvalidOperationException($"No GPT-2 name for {string.Join(", ", unknown)}.");
        var tensors = TensorNames(config.NLayer).Select(name => (name, Tensor: Gpt2Tensor(name, state, config)));
        SafetensorsExport.Write(tensors.ToList(), new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["config"] = Config(config, null, null).ToJsonString(),
        }, output);
    }

    private static Tensor Gpt2Tensor(string name, Dictionary<string, Tensor> state, GptConfig config)
    {
        if (name == Prefix + "wte.weight")
            return state[name].narrow(0, 0, config.VocabSize);
        if (state.TryGetValue(name, out var tensor))
            return Conv1dMatrices.Any(m => name.EndsWith($"{m}.weight", StringComparison.Ordinal))
                ? tensor.t()
                : tensor;
        // A bias the model was trained without: its weight's output width of zeros.
        var weight = state[name[..^"bias".Length] + "weight"];
        return zeros(Conv1dMatrices.Any(m => name.EndsWith($"{m}.bias", StringComparison.Ordinal))
            ? weight.shape[0]
            : weight.shape[^1]);
    }
}
