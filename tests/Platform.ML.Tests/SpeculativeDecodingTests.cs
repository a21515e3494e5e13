using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class SpeculativeDecodingTests
{
    public static TheoryData<double, int, int> Cases() => new()
    {
        { 0.0, 4, 200 },  // greedy: a random model's greedy text falls into a loop, which drafts then foresee
        { 0.0, 7, 37 },   // drafts cut short by the tokens left
        { 0.9, 4, 120 },  // seeded sampling with top-k and a frequency penalty
        { 0.7, 2, 60 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Drafted_tokens_leave_the_text_and_its_log_probabilities_as_plain_decoding_gives_them(
        double temperature, int drafted, int maxTokens)
    {
        manual_seed(41);
        using var model = new Gpt(new GptConfig(VocabSize: 50, BlockSize: 96, NLayer: 2, NHead: 3, NEmbd: 48));
        model.eval();
        // A text that repeats itself, so its own n-grams draft its continuation; the window (96) restarts on the way.
        var phrase = Enumerable.Range(0, 17).Select(i => (i * 19 + 3) % 50).ToArray();
        int[] prompt = [.. phrase, .. phrase, .. phrase[..9]];
        var sampling = new SamplingOptions(maxTokens, temperature, TopK: 20, Seed: 9) { FrequencyPenalty = 0.2 };

        // Oracle: the same request decoded one token a step.
        SampledToken[] plain;
        using (var batcher = new ContinuousBatcher(model, null, null,
            new ContinuousBatchingOptions { SpeculativeTokens = 0 }))
            plain = await ContinuousBatcherTests.ReadTokens(batcher.TrySubmit(prompt, [sampling])![0]);

        using var speculative = new ContinuousBatcher(model, null, null,
            new ContinuousBatchingOptions { SpeculativeTokens = drafted });
        var tokens = await ContinuousBatcherTests.ReadTokens(speculative.TrySubmit(prompt, [sampling])![0]);
        Assert.Equal(maxTokens, tokens.Length);
        Assert.Equal(plain, tokens);
        if (maxTokens == 200)
            Assert.True(speculative.DraftedTokensAccepted > 0, "greedy decoding of a repeated text accepts drafts");
    }
}
