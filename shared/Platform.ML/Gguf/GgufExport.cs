using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML.Gguf;

/// <summary>
/// Writes a GPT as a GGUF file of llama.cpp's "gpt2" architecture, which is nanoGPT's model: learned positions,
/// pre-LayerNorm blocks with a fused QKV projection, a 4× MLP and a head tied to the token embedding. The tensors keep
/// torch.nn.Linear's [out, in] layout, which is ggml's {in, out}; only the real vocabulary's rows are written (the
/// padding rows are never produced). A model without biases gets zero ones, since llama.cpp's GPT-2 requires them.
/// Matrices take the asked type; vectors (norms, biases) stay f32, as llama.cpp's own converter leaves them.
/// </summary>
public static class GgufExport
{
    /// <summary>What <c>type=</c> may be, by the names llama.cpp's tools use.</summary>
    public static readonly IReadOnlyDictionary<string, GgmlType> Types = new Dictionary<string, GgmlType>
    {
        ["f32"] = GgmlType.F32,
        ["f16"] = GgmlType.F16,
        ["q8_0"] = GgmlType.Q8_0,
    };

    // llama.cpp's llama_ftype for a file whose matrices are all of one type.
    private static uint FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        _ => 7,
    };

    // llama.cpp's token types.
    private const int NormalToken = 1, ControlToken = 3;

    /// <summary>
    /// Why a model with this tokenizer cannot be written, or null when it can. llama.cpp's GPT-2 tokenizer is
    /// byte-level BPE by GPT-2's pattern, which is what the platform's BPE is.
    /// </summary>
    public static string? Refusal(ITokenizer tokenizer) => tokenizer switch
    {
        BpeTokenizer => null,
        // llama.cpp has no character-level vocabulary, and its byte-level BPE would need a token for every UTF-8
        // byte, which a character vocabulary lacks.
        CharTokenizer => "llama.cpp has no character-level tokenizer: export a model with a BPE tokenizer to GGUF, " +
            "or take its safetensors.",
        // llama.cpp's WordPiece ("bert") lowercases, strips accents and splits text its own way, so it would give
        // other ids than the ones the model was trained on.
        WordPieceTokenizer => "llama.cpp's WordPiece normalises text differently, so it would not give the ids the " +
            "model was trained on: export a model with a BPE tokenizer to GGUF, or take its safetensors.",
        _ => $"No GGUF vocabulary for a {tokenizer.Kind} tokenizer.",
    };

    public static void Write(Gpt model, BpeTokenizer tokenizer, GgmlType type, Stream output, string name,
        string? chatTemplate = null)
    {
        var config = model.Config;
        if (tokenizer.VocabSize != config.VocabSize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabSize} tokens, the model " +
                $"{config.VocabSize}.", nameof(tokenizer));
        var gguf = new GgufWriter();
        gguf.Add("general.architecture", "gpt2");
        gguf.Add("general.name", name);
        gguf.Add("general.file_type", FileType(type));
        gguf.Add("gpt2.context_length", (uint)config.BlockSize);
        gguf.Add("gpt2.embedding_length", (uint)config.NEmbd);
        gguf.Add("gpt2.feed_forward_length", (uint)(4 * config.NEmbd));
        gguf.Add("gpt2.block_count", (uint)config.NLayer);
        gguf.Add("gpt2.attention.head_count", (uint)config.NHead);
        gguf.Add("gpt2.attention.layer_norm_epsilon", 1e-5f);
        AddVocabulary(gguf, tokenizer, chatTemplate);

        var state = model.state_dict();
        var embd = (long)config.NEmbd;
        void Matrix(string to, string from, Func<Tensor, Tensor>? select = null)
        {
            var tensor = state[from];
            var shape = select is null ? tensor.shape : new[] { (long)config.VocabSize, embd };
            var ggmlType = type == GgmlType.Q8_0 && shape[1] % GgufWriter.Q8BlockSize != 0 ? GgmlType.F16 : type;
            gguf.AddTensor(to, [shape[1], shape[0]], ggmlType, () => Values(select?.Invoke(tensor) ?? tensor));
        }
        void Vector(string to, string from, long length)
        {
            if (state.TryGetValue(from, out var tensor))
                gguf.AddTensor(to, [length], GgmlType.F32, () => Values(tensor));
            else
                gguf.AddTensor(to, [length], GgmlType.F32, () => new float[length]);
        }

        Matrix("token_embd.weight", "wte.weight", t => t.narrow(0, 0, config.VocabSize));
        Matrix("position_embd.weight", "wpe.weight");
        for (var i = 0; i < config.NLayer; i++)
        {
            var (to, from) = ($"blk.{i}.", $"h.{i}.");
            Vector(to + "attn_norm.weight", from + "ln_1.weight", embd);
            Vector(to + "attn_norm.bias", from + "ln_1.bias", embd);
            Matrix(to + "attn_qkv.weight", from + "attn.c_attn.weight");
            Vector(to + "attn_qkv.bias", from + "attn.c_attn.bias", 3 * embd);
            Matrix(to + "attn_output.weight", from + "attn.c_proj.weight");
            Vector(to + "attn_output.bias", from + "attn.c_proj.bias", embd);
            Vector(to + "ffn_norm.weight", from + "ln_2.weight", embd);
            Vector(to + "ffn_norm.bias", from + "ln_2.bias", embd);
            Matrix(to + "ffn_up.weight", from + "mlp.c_fc.weight");
            Vector(to + "ffn_up.bias", from + "mlp.c_fc.bias", 4 * embd);
            Matrix(to + "ffn_down.weight", from + "mlp.c_proj.weight");
            Vector(to + "ffn_down.bias", from + "mlp.c_proj.bias", embd);
        }
        Vector("output_norm.weight", "ln_f.weight", embd);
        Vector("output_norm.bias", "ln_f.bias", embd);
        gguf.WriteTo(output);
    }

    private static void AddVocabulary(GgufWriter gguf, BpeTokenizer tokenizer, string? chatTemplate)
    {
        gguf.Add("tokenizer.ggml.model", "gpt2");
        gguf.Add("tokenizer.ggml.pre", "gpt-2");
        gguf.Add("tokenizer.ggml.tokens", tokenizer.Vocabulary);
        var specials = tokenizer.SpecialTokens;
        gguf.Add("tokenizer.ggml.token_type", tokenizer.Vocabulary
            .Select(t => specials.ContainsKey(t) ? ControlToken : NormalToken).ToArray());
        gguf.Add("tokenizer.ggml.merges", tokenizer.Merges.Select(m => $"{m.Left} {m.Right}").ToArray());
        gguf.Add("tokenizer.ggml.add_bos_token", false);
        // A chat model's turns end with <|im_end|>, a text model's documents with <|endoftext|>.
        var end = (chatTemplate is null ? null : tokenizer.SpecialTokenId(ChatTemplate.End))
            ?? tokenizer.SpecialTokenId("<|endoftext|>");
        if (end is { } id)
        {
            gguf.Add("tokenizer.ggml.bos_token_id", (uint)id);
            gguf.Add("tokenizer.ggml.eos_token_id", (uint)id);
        }
        if (chatTemplate is not null)
            gguf.Add("tokenizer.chat_template", chatTemplate);
    }

    private static float[] Values(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        return tensor.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
    }
}
