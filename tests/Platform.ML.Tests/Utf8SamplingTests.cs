using System.Text;
using Platform.ML;
using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class Utf8SamplingTests
{
    /// <summary>
    /// An untrained GPT over a byte-level BPE learned from Chinese text: its draws are close to uniform over the
    /// vocabulary, whose 256 single bytes include lone continuation and lead bytes, so unguarded samples break UTF-8.
    /// </summary>
    private static (Gpt Model, BpeTokenizer Tokenizer) RandomBilingualModel()
    {
        var tokenizer = BpeTrainer.Train([new StringReader(string.Concat(Enumerable.Repeat("我喜欢大模型和中文。The model " +
            "learns. ", 40)))], 320);
        manual_seed(3);
        return (new Gpt(new GptConfig(tokenizer.VocabSize, 64, 1, 2, 32)), tokenizer);
    }

    private static bool IsValidUtf8(BpeTokenizer tokenizer, IEnumerable<int> ids)
    {
        var bytes = ids.SelectMany(id => tokenizer.Vocabulary[id].Select(c => ByteLevel.CharToByte[c])).ToArray();
        try
        {
            new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    [Fact]
    public void Guarded_sampling_never_produces_invalid_utf8_where_unguarded_sampling_does()
    {
        var (model, tokenizer) = RandomBilingualModel();
        using var _ = model;
        using var utf8 = Utf8Constraint.For(tokenizer)!;
        var prompt = tokenizer.Encode("我");
        var broken = 0;
        for (var seed = 0; seed < 10; seed++)
        {
            var options = new SamplingOptions(60, 1.0, Seed: seed);
            broken += IsValidUtf8(tokenizer, Sampler.Generate(model, prompt, options)) ? 0 : 1;
            var guarded = Sampler.Generate(model, prompt, options, utf8: utf8);
            Assert.Equal(60, guarded.Length);
            Assert.True(IsValidUtf8(tokenizer, guarded), $"seed {seed}: {tokenizer.Decode(guarded)}");
            Assert.DoesNotContain('\uFFFD', tokenizer.Decode(guarded));
        }
        Assert.True(broken >= 5,
            $"only {broken} of 10 unguarded samples were broken: the model does not test the guard");
        // The switch turns it off: the guarded call then samples exactly as the unguarded one.
        var off = new SamplingOptions(60, 1.0, Seed: 1) { ValidUtf8 = false };
        Assert.Equal(Sampler.Generate(model, prompt, off), Sampler.Generate(model, prompt, off, utf8: utf8));
    }
}
