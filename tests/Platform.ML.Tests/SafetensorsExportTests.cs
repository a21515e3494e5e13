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
}
