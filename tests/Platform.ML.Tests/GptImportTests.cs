using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.ML;
using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class GptImportTests
{
    private static readonly GptConfig Small = new(VocabSize: 70, BlockSize: 16, NLayer: 2, NHead: 2, NEmbd: 32);
    private static readonly string[] Conv1D = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight",
        "mlp.c_proj.weight"];

    private static Gpt Trained()
    {
        manual_seed(41);
        var model = new Gpt(Small);
        var random = new Random(3);
        var ids = Enumerable.Range(0, 3000).Select(i => i % 7 == 0 ? random.Next(70) : (i * 5) % 70).ToArray();
        using var train = new TokenBatches(ids, 16, CPU);
        new Trainer(new TrainerOptions
        {
            MaxSteps = 30,
            BatchSize = 8,
            EvalInterval = 30,
            EvalIters = 1,
            LogInterval = 100,
            WarmupSteps = 2
        })
            .Train(model, train, train, new CheckpointRecorder(), CancellationToken.None);
        model.eval();
        return model;
    }

    /// <summary>The model under Hugging Face GPT-2's names: no prefix, Conv1D (in, out) matrices, and GPT-2's
    /// causal-mask buffers.</summary>
    private static string WriteGpt2Layout(Gpt model, Func<string, string>? rename = null, string? drop = null)
    {
        var tensors = new List<(string Name, float[] Values, long[] Shape)>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            var value = Conv1D.Any(name.EndsWith) ? parameter.detach().t().contiguous() : parameter.detach();
            if (name != drop)
                tensors.Add(((rename ?? (n => n))(name), value.data<float>().ToArray(), value.shape));
        }
        for (var layer = 0; layer < model.Config.NLayer; layer++)
            tensors.Add(($"h.{layer}.attn.bias", new float[16 * 16], [1, 1, 16, 16]));
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var (name, values, shape) in tensors)
        {
            header[name] = new { dtype = "F32", shape, data_offsets = new[] { offset, offset + values.Length * 4L } };
            offset += values.Length * 4L;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        var path = Path.GetTempFileName();
        using var file = File.Create(path);
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        file.Write(length);
        file.Write(json);
        foreach (var (_, values, _) in tensors)
            foreach (var v in values)
            {
                var bytes = new byte[4];
                BinaryPrimitives.WriteSingleLittleEndian(bytes, v);
                file.Write(bytes);
            }
        return path;
    }

    private static void AssertSameLogits(Gpt expected, Gpt actual)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = tensor(new long[] { 3, 14, 15, 9, 26, 53, 58, 9, 7, 69 }).unsqueeze(0);
        Assert.True(expected.forward(x).allclose(actual.forward(x), rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void A_gpt2_layout_file_of_a_trained_model_imports_to_identical_logits()
    {
        using var model = Trained();
        var path = WriteGpt2Layout(model);
        try
        {
            // GPT-2's own activation is gelu_new; this model was trained with nanoGPT's exact GELU, as its config says.
            var imported = GptImport.Import(path, 70,
                new JsonObject { ["n_head"] = 2, ["activation_function"] = "gelu" });
            using var loaded = imported.Model;
            Assert.Equal(GptImport.HuggingFaceGpt2, imported.Layout);
            Assert.Equal(Small, loaded.Config);
            AssertSameLogits(model, loaded);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_platforms_own_export_imports_to_identical_logits_with_its_head_count_from_the_metadata()
    {
        using var model = Trained();
        var path = Path.GetTempFileName();
        try
        {
            using (var file = File.Create(path))
                SafetensorsExport.Write(model, file);
            var imported = GptImport.Import(path, 70);
            using var loaded = imported.Model;
            Assert.Equal(GptImport.Platform, imported.Layout);
            AssertSameLogits(model, loaded);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Missing_surplus_and_misshapen_tensors_are_each_named()
    {
        using var model = Trained();
        var path = WriteGpt2Layout(model, rename: n => n == "h.1.mlp.c_fc.bias" ? "h.1.mlp.c_fc.scale" : n,
            drop: "ln_f.weight");
        try
        {
            var error = Assert.Throws<ImportException>(() =>
                GptImport.Import(path, 70, new JsonObject { ["n_head"] = 2 }));
            Assert.Contains("h.1.mlp.c_fc.bias: missing", error.Problems);
            Assert.Contains("ln_f.weight: missing", error.Problems);
            Assert.Contains("h.1.mlp.c_fc.scale: not a weight of this 2-layer GPT", error.Problems);
            Assert.Equal(3, error.Problems.Count);

            var noHeads = Assert.Throws<ImportException>(() => GptImport.Import(path, 200));
            Assert.Contains(noHeads.Problems, p => p.StartsWith("config: n_head is needed", StringComparison.Ordinal));
            // The platform pads its table to 128 rows for 70 tokens; a 200-token tokenizer needs more.
            Assert.Contains("wte.weight: 128 rows, but the tokenizer has 200 tokens", noHeads.Problems);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Gelu_new_is_the_tanh_approximation_gpt2_was_trained_with()
    {
        // Published: GELU_tanh(1) = 0.5·(1 + tanh(√(2/π)·1.044715)) = 0.8411920; exact GELU(1) = 0.8413447.
        manual_seed(42);
        using var mlp = new Mlp(Small with { NEmbd = 1, NHead = 1, Activation = GptConfig.GeluTanh });
        using var exact = new Mlp(Small with { NEmbd = 1, NHead = 1 });
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // c_fc = identity on the first unit, c_proj reads it back: the MLP computes the activation of its input.
        foreach (var m in new[] { mlp, exact })
            foreach (var (name, p) in m.named_parameters())
                p.copy_(name == "c_fc.weight" ? tensor(new float[] { 1, 0, 0, 0 }).view(4, 1) : name == "c_proj.weight"
                    ? tensor(new float[] { 1, 0, 0, 0 }).view(1, 4) : zeros_like(p));
        var one = ones(1, 1, 1);
        Assert.Equal(0.8411920, mlp.forward(one).item<float>(), 6);
        Assert.Equal(0.8413447, exact.forward(one).item<float>(), 6);
    }

    [Fact]
    public void A_byte_level_bpe_tokenizer_json_in_gpt2s_format_loads()
    {
        // GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others for code points from 256 up.
        var printable = Enumerable.Range('!', '~' - '!'
            + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToList();
        var symbols = new string[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
            symbols[b] = char.ConvertFromUtf32(printable.Contains(b) ? b : next++);
        var ordered = printable.Select(b =>
            symbols[b]).Concat(Enumerable.Range(0, 256).Where(b => !printable.Contains(b)).Select(b =>
            symbols[b])).ToList();
        var vocab = new JsonObject();
        foreach (var (symbol, id) in ordered.Select((s, i) => (s, i)))
            vocab[symbol] = id;
        vocab["Ġt"] = 256;
        vocab["he"] = 257;
        vocab["Ġthe"] = 258;
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject
            {
                ["id"] = 259,
                ["content"] = "<|endoftext|>",
                ["special"] = true
            }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "ByteLevel",
                ["add_prefix_space"] = false,
                ["trim_offsets"] = true,
                ["use_regex"] = true
            },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "ByteLevel",
                ["add_prefix_space"] = true,
                ["trim_offsets"] = false,
                ["use_regex"] = true
            },
            ["decoder"] = new JsonObject
            {
                ["type"] = "ByteLevel",
                ["add_prefix_space"] = true,
                ["trim_offsets"] = true,
                ["use_regex"] = true
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = "",
                ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray("Ġ t", "h e", "Ġt he"),
            },
        };
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json.ToJsonString()));
        var tokenizer = TokenizerFile.Load(stream);
        Assert.Equal(260, tokenizer.VocabSize);
        var ids = tokenizer.Encode("in the end");
        Assert.Contains(258, ids);
        Assert.Equal("in the end", tokenizer.Decode(ids));
        Assert.Equal([ordered.IndexOf("i"), ordered.IndexOf("n")], ids[..2]);
    }
}
