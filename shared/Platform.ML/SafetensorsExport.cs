using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Writes a model's weights as a .safetensors file (8-byte little-endian header length, JSON header, raw
/// little-endian tensor bytes) under nanoGPT's state-dict names ("transformer.h.0.attn.c_attn.weight", …,
/// torch.nn.Linear layout), so <c>safetensors.torch.load_file</c> plus nanoGPT's <c>GPT(GPTConfig(...))</c>
/// loads them (<c>lm_head.weight</c> is tied to <c>transformer.wte.weight</c>, so it is not stored twice).
/// The header's <c>__metadata__</c> carries a GPT-2-style config. An encoder-decoder is written under its own
/// state-dict names ("encoder.0.attn.c_attn.weight", "decoder.0.cross_attn.c_kv.weight", "wte.weight", …) with
/// <c>architecture</c> "encoder-decoder" and its <see cref="EncoderDecoderConfig"/> as JSON in the metadata.
/// </summary>
public static class SafetensorsExport
{
    public static Dictionary<string, string> GptStyleConfig(GptConfig c) => new()
    {
        ["format"] = "pt",
        ["model_type"] = "gpt2",
        ["architecture"] = "nanoGPT",
        ["config"] = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["vocab_size"] = c.PaddedVocabSize,
            ["real_vocab_size"] = c.VocabSize,
            ["block_size"] = c.BlockSize,
            ["n_positions"] = c.BlockSize,
            ["n_layer"] = c.NLayer,
            ["n_head"] = c.NHead,
            ["n_embd"] = c.NEmbd,
            ["dropout"] = c.Dropout,
            ["bias"] = c.Bias,
            ["tie_word_embeddings"] = true,
            ["activation_function"] = c.Activation,
            ["layer_norm_epsilon"] = 1e-5,
        }),
    };

    public static void Write(Gpt model, Stream output) =>
        Write(model, "transformer.", GptStyleConfig(model.Config), output);

    public static void Write(EncoderDecoder model, Stream output) => Write(model, "", new Dictionary<string, string>
    {
        ["format"] = "pt",
        ["architecture"] = "encoder-decoder",
        ["config"] = JsonSerializer.Serialize(model.Config),
    }, output);

    /// <summary>Either family, whichever the module is.</summary>
    public static void Write(nn.Module model, Stream output)
    {
        switch (model)
        {
            case Gpt gpt:
                Write(gpt, output);
                break;
            case EncoderDecoder encoderDecoder:
                Write(encoderDecoder, output);
                break;
            default:
                throw new ArgumentException($"No safetensors layout for {model.GetType().Name}.", nameof(model));
        }
    }

    private static void Write(nn.Module model, string prefix, Dictionary<string, string> metadata, Stream output)
    {
        var state = model.state_dict();
        Write(state.Select(p => (prefix + p.Key, p.Value)), metadata, output);
    }

    /// <summary>
    /// Named tensors as F32 in name order, with <paramref name="metadata"/> in the header. Each is copied to fp32 on
    /// the CPU only while its bytes are written, so the export holds one tensor's copy at a time; the caller's tensors
    /// are left as they are.
    /// </summary>
    public static void Write(IEnumerable<(string Name, Tensor Tensor)> named, Dictionary<string, string> metadata,
        Stream output)
    {
        var tensors = named.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object> { ["__metadata__"] = metadata };
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            var bytes = tensor.numel() * 4;
            header[name] = new
            {
                dtype = "F32",
                shape = tensor.shape,
                data_offsets = new[] { offset, offset + bytes }
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        // The header is padded with spaces to a multiple of 8 bytes, as the reference implementation does.
        var padded = (json.Length + 7) / 8 * 8;
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        output.Write(length);
        output.Write(json);
        for (var i = json.Length; i < padded; i++)
            output.WriteByte((byte)' ');
        foreach (var (_, tensor) in tensors)
        {
            using var scope = NewDisposeScope();
            var values = tensor.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            var bytes = new byte[values.Length * 4];
            for (var i = 0; i < values.Length; i++)
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
            output.Write(bytes);
        }
    }
}
