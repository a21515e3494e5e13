using System.Diagnostics;
using System.Text.Json;
using Platform.ML;
using Platform.Tokenizers;
using Platform.Tokenizers.Structured;
using static TorchSharp.torch;

/// <summary>
/// What constrained decoding costs per token: one model in a continuous batch decodes a chat reply with no grammar,
/// under json_object and under a JSON schema, alternated over rounds, for a char and a byte-level BPE vocabulary. The
/// model's weights are random (speed does not depend on them), so a constrained reply may end early when its document
/// does: the figure is the time per token after the first (the prompt's prefill excluded). Also times the mask alone
/// (<see cref="GrammarConstraint.Allowed"/>) in the states of a document.
/// </summary>
static class StructuredBench
{
    private const string Schema = """
        {"type":"object","properties":{"date":{"type":"string","maxLength":10},"year":{"type":"integer"},
         "tags":{"type":"array","items":{"type":"string","maxLength":12},"maxItems":4},"sure":{"type":"boolean"}},
         "required":["date","year","sure"]}
        """;

    public static async Task RunAsync(string text, int threads, int rounds, int maxTokens)
    {
        set_num_threads(threads);
        var (schema, _) = JsonSchemaGrammar.Compile(JsonDocument.Parse(Schema).RootElement);
        var tokenizers = new (string Name, ITokenizer Tokenizer)[]
        {
            ("char", CharTokenizer.Train([new StringReader(text + "{}[]\":,0123456789")], ChatTemplate.SpecialTokens)),
            ("bpe 4,096", BpeTrainer.Train([new StringReader(text)], 4096,
                specialTokens: [.. ChatTemplate.SpecialTokens])),
        };
        foreach (var (name, tokenizer) in tokenizers)
        {
            var end = ChatTemplate.MarkersOf(tokenizer).End;
            var trie = TokenTrie.For(tokenizer);
            var prompt = ChatTemplate.Encode(tokenizer, [new ChatMessage("user", "Reply in JSON.")],
                promptReply: true).Ids;
            manual_seed(1);
            using var model = new Gpt(new GptConfig(tokenizer.VocabSize, 256, 4, 4, 128, 0.0));
            using var batcher = new ContinuousBatcher(model, null, Utf8Constraint.For(tokenizer),
                new ContinuousBatchingOptions());
            var grammars = new (string Name, GrammarNode? Grammar)[]
            {
                ("none", null), ("json_object", JsonSchemaGrammar.AnyObject), ("json_schema", schema),
            };
            var perToken = grammars.ToDictionary(g => g.Name, _ => new List<double>());
            var tokens = grammars.ToDictionary(g => g.Name, _ => 0L);
            for (var round = -1; round < rounds; round++) // round -1 warms up
                foreach (var (grammarName, grammar) in grammars)
                {
                    var options = new SamplingOptions(maxTokens, 1.0, null, round + 2)
                    {
                        Grammar = grammar is null ? null : new GrammarConstraint(grammar, trie, end),
                    };
                    var clock = new Stopwatch();
                    var count = 0;
                    var sequence = batcher.TrySubmit(prompt, [options])![0];
                    await foreach (var token in sequence.Tokens.ReadAllAsync())
                    {
                        // Timed from the first token, so the prompt's prefill is not spread over the reply.
                        if (count++ == 0)
                            clock.Start();
                        if (token.Id == end)
                        {
                            sequence.Stop();
                            break;
                        }
                    }
                    if (round < 0)
                        continue;
                    perToken[grammarName].Add(clock.Elapsed.TotalMilliseconds / Math.Max(1, count - 1));
                    tokens[grammarName] += count;
                }
            Console.WriteLine($"\n== structured output, {name} (vocabulary {tokenizer.VocabSize:N0}), GPT 4 × 128, " +
                $"{threads} thread(s), median of {rounds} replies of up to {maxTokens} tokens");
            var plain = Median(perToken["none"]);
            foreach (var (grammarName, _) in grammars)
                Console.WriteLine($"   {grammarName,-12} {Median(perToken[grammarName]),7:F3} ms/token " +
                    $"({tokens[grammarName] / rounds,5} tokens a reply)  ×{Median(perToken[grammarName]) / plain:F2}");

            // The mask alone, in each state a schema document passes through.
            var constraint = new GrammarConstraint(schema!, trie, end);
            var document = tokenizer.Encode(
                "{\"date\":\"2023-04-15\",\"year\":2023,\"tags\":[\"a\",\"bc\"],\"sure\":true}");
            var maskClock = Stopwatch.StartNew();
            foreach (var id in document)
            {
                constraint.Allowed();
                constraint.Advance(id);
            }
            var maskMs = maskClock.Elapsed.TotalMilliseconds / document.Length;
            Console.WriteLine($"   mask alone   {maskMs,7:F3} ms/token over the {document.Length} tokens of a schema " +
                "document");
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
