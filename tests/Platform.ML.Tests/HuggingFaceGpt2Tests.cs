using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

/// <summary>The Hugging Face export against GPT-2's published config and state dict (Fixtures/gpt2).</summary>
public partial class HuggingFaceGpt2Tests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2");

    /// <summary>A model whose every parameter, biases and norms included, is random, so a tensor written under the
    /// wrong name or transposed the wrong way changes the logits.</summary>
    private static Gpt Randomised(GptConfig config)
    {
        manual_seed(7);
        var model = new Gpt(config);
        using (no_grad())
            foreach (var (_, parameter) in model.named_parameters())
                parameter.normal_(0, 0.2);
        model.eval();
        return model;
    }

    private static (Dictionary<string, long[]> Tensors, string Path) Export(Gpt model)
    {
        var path = Path.GetTempFileName();
        using (var file = File.Create(path))
            HuggingFaceGpt2.WriteWeights(model, file);
        var read = SafetensorsFile.Open(path);
        return (read.Tensors.ToDictionary(t => t.Key, t => t.Value.Shape), path);
    }

    [GeneratedRegex(@"^(\S+) torch\.Size\(\[([0-9, ]*)\]\)$")]
    private static partial Regex StateDictLine();

    [Fact]
    public void Every_tensor_has_gpt2s_published_name_and_its_shape_scaled_to_the_model()
    {
        // GPT-2 small's widths, each mapped to this model's: 768 wide, 2,304 = 3 × 768, 3,072 = 4 × 768, a vocabulary
        // of 50,257 and 1,024 positions; 12 layers, as GPT-2 small has.
        var config = new GptConfig(VocabSize: 70, BlockSize: 20, NLayer: 12, NHead: 2, NEmbd: 24);
        var scale = new Dictionary<long, long> { [768] = 24, [2304] = 72, [3072] = 96, [50257] = 70, [1024] = 20 };
        var published = File.ReadLines(Path.Combine(Fixtures, "state-dict.txt"))
            .Select(line => StateDictLine().Match(line))
            .ToDictionary(m => m.Groups[1].Value,
                m => m.Groups[2].Value.Split(", ").Select(d => scale[long.Parse(d)]).ToArray());
        // The head is tied to the embedding: save_pretrained stores it once, under the embedding's name.
        Assert.Equal(published["transformer.wte.weight"], published["lm_head.weight"]);
        published.Remove("lm_head.weight");

        using var model = Randomised(config);
        var (tensors, path) = Export(model);
        File.Delete(path);
        Assert.Equal(published.Keys.Order(StringComparer.Ordinal), tensors.Keys.Order(StringComparer.Ordinal));
        Assert.All(published, p => Assert.Equal(p.Value, tensors[p.Key]));
    }

    [Fact]
    public void Every_config_field_is_one_of_gpt2s_published_fields_and_the_shape_is_complete()
    {
        var published = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures, "config.json")))!.AsObject();
        var config = HuggingFaceGpt2.Config(new GptConfig(70, 20, 3, 2, 24), 5, 6);
        Assert.All(config, field => Assert.True(published.ContainsKey(field.Key), $"{field.Key} is not GPT-2's"));
        Assert.All(new[] { "model_type", "architectures", "vocab_size", "n_positions", "n_embd", "n_layer", "n_head",
            "activation_function", "layer_norm_epsilon" }, key => Assert.True(config.ContainsKey(key), key));
        Assert.Equal(published["model_type"]!.GetValue<string>(), config["model_type"]!.GetValue<string>());
        Assert.Equal(published["architectures"]!.ToJsonString(), config["architectures"]!.ToJsonString());
        Assert.Equal(70, config["vocab_size"]!.GetValue<int>());
        Assert.Equal(20, config["n_positions"]!.GetValue<int>());
        Assert.Equal(6, config["eos_token_id"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_folder_reimports_with_the_same_logits_and_an_unpadded_vocabulary(bool bias)
    {
        // 70 tokens: the platform pads the embedding to 128 rows, the export keeps 70.
        var config = new GptConfig(VocabSize: 70, BlockSize: 16, NLayer: 2, NHead: 2, NEmbd: 32, Bias: bias);
        using var model = Randomised(config);
        var (tensors, path) = Export(model);
        try
        {
            Assert.Equal([70L, 32L], tensors["transformer.wte.weight"]);
            Assert.Equal([32L, 96L], tensors["transformer.h.0.attn.c_attn.weight"]);
            var imported = GptImport.Import(path, 70, HuggingFaceGpt2.Config(config, null, null));
            using var loaded = imported.Model;
            Assert.Equal(GptImport.HuggingFaceGpt2, imported.Layout);
            Assert.Equal(config.VocabSize, loaded.Config.VocabSize);
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var x = tensor(new long[] { 3, 14, 15, 9, 26, 53, 58, 9, 7, 69 }).unsqueeze(0);
            var (expected, actual) = (model.forward(x), loaded.forward(x));
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(expected.allclose(actual, rtol: 0, atol: 1e-5),
                $"largest difference {(expected - actual).abs().max().item<float>()}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
