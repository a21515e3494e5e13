using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class SafetensorsExportTests
{
    [Fact]
    public void Every_weight_is_stored_under_its_nanoGPT_name_with_its_exact_values()
    {
        manual_seed(6);
        var config = new GptConfig(10, 8, 2, 2, 16);
        using var model = new Gpt(config);
        using var stream = new MemoryStream();
        SafetensorsExport.Write(model, stream);
        var file = stream.ToArray();

        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(0, headerLength % 8);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(file, 8, headerLength).TrimEnd(' '));
        var dataStart = 8 + headerLength;

        var metadata = header.RootElement.GetProperty("__metadata__");
        using var gptConfig = JsonDocument.Parse(metadata.GetProperty("config").GetString()!);
        Assert.Equal(64, gptConfig.RootElement.GetProperty("vocab_size").GetInt32());
        Assert.Equal(16, gptConfig.RootElement.GetProperty("n_embd").GetInt32());

        var state = model.state_dict();
        var names = header.RootElement.EnumerateObject().Select(p => p.Name).Where(n => n != "__metadata__").ToList();
        Assert.Equal(state.Keys.Select(k => "transformer." + k).Order(StringComparer.Ordinal), names);
        Assert.Contains("transformer.h.1.attn.c_attn.weight", names);
        Assert.Contains("transformer.wte.weight", names);

        long expectedOffset = 0;
        foreach (var name in names)
        {
            var entry = header.RootElement.GetProperty(name);
            Assert.Equal("F32", entry.GetProperty("dtype").GetString());
            var shape = entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
            Assert.Equal(expectedOffset, offsets[0]);
            expectedOffset = offsets[1];
            var tensor = state[name["transformer.".Length..]];
            Assert.Equal(tensor.shape, shape);
            var stored = new float[(offsets[1] - offsets[0]) / 4];
            Buffer.BlockCopy(file, (int)(dataStart + offsets[0]), stored, 0, stored.Length * 4);
            Assert.Equal(tensor.detach().data<float>().ToArray(), stored);
        }
        Assert.Equal(file.Length, dataStart + expectedOffset);
    }

    [Fact]
    public void An_encoder_decoder_is_stored_under_its_own_names_with_its_config()
    {
        var config = EncoderDecoderTests.Config(shared: false);
        manual_seed(2);
        using var model = new EncoderDecoder(config);
        using var stream = new MemoryStream();
        SafetensorsExport.Write((nn.Module)model, stream);
        var file = stream.ToArray();
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(file, 8, headerLength).TrimEnd(' '));
        var metadata = header.RootElement.GetProperty("__metadata__");
        Assert.Equal("encoder-decoder", metadata.GetProperty("architecture").GetString());
        Assert.Equal(config,
            JsonSerializer.Deserialize<EncoderDecoderConfig>(metadata.GetProperty("config").GetString()!));

        var names = header.RootElement.EnumerateObject().Select(p => p.Name).Where(n => n != "__metadata__").ToList();
        Assert.Equal(model.state_dict().Keys.Order(StringComparer.Ordinal), names);
        Assert.Contains("decoder.1.cross_attn.c_kv.weight", names);
        Assert.Contains("wte_source.weight", names);
        var values = names.Sum(n =>
            header.RootElement.GetProperty(n).GetProperty("shape").EnumerateArray().Aggregate(1L, (a, d) => a
            * d.GetInt64()));
        Assert.Equal(config.Parameters, values);
        Assert.Equal(file.Length, 8 + headerLength + values * 4);
    }
}
