using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Platform.Tokenizers.Structured;

namespace Platform.Tokenizers.Tests;

/// <summary>
/// Constrained decoding against JSON schemas, checked by an independent validator (JsonSchema.Net): for random
/// schemas and seeds, a "model" that draws any allowed token at random always ends with a document that parses and
/// validates.
/// </summary>
public class StructuredOutputTests
{
    private static readonly string[] Names = ["a", "b", "name", "年龄", "x y", "q\"uote"];

    private static readonly CharTokenizer Chars = new(
        Enumerable.Range(0x20, 0x5F).Concat("年龄北京".EnumerateRunes().Select(r => r.Value)).Distinct(),
        ChatTemplate.SpecialTokens);

    private static readonly BpeTokenizer Bpe = BpeTrainer.Train(
        [new StringReader(DemoCorpus.Text + "{\"name\": [1, 2.5, true, null], \"年龄\": \"x\"}")], 500,
        specialTokens: [.. ChatTemplate.SpecialTokens]);

    /// <summary>A random schema of the supported kinds, nested up to three levels, with bounded strings and
    /// arrays.</summary>
    private static JsonObject Schema(Random random, int depth)
    {
        var kinds = depth < 3 ? 9 : 7;
        switch (random.Next(kinds))
        {
            case 0:
                return new JsonObject { ["type"] = "string", ["maxLength"] = random.Next(0, 7) } is var s
                    && random.Next(2) == 0 ? Also(s, "minLength", Math.Min(2, s["maxLength"]!.GetValue<int>())) : s;
            case 1:
                return new JsonObject { ["type"] = random.Next(2) == 0 ? "number" : "integer" };
            case 2:
                return new JsonObject { ["type"] = "boolean" };
            case 3:
                return new JsonObject { ["type"] = "null" };
            case 4:
                return new JsonObject
                {
                    ["enum"] = new JsonArray(Values(random).Take(random.Next(1, 5)).Select(v => v?.DeepClone())
                        .DistinctBy(v => v?.ToJsonString()).ToArray()),
                };
            case 5:
                return new JsonObject { ["const"] = Values(random).First()?.DeepClone() };
            case 6:
                return new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("北京", "Paris", "") };
            case 7:
                var min = random.Next(0, 2);
                return new JsonObject
                {
                    ["type"] = "array",
                    ["items"] = Schema(random, depth + 1),
                    ["minItems"] = min,
                    ["maxItems"] = min + random.Next(0, 3),
                };
            default:
                var names = Names.OrderBy(_ => random.Next()).Take(random.Next(0, 4)).ToList();
                var properties = new JsonObject();
                foreach (var name in names)
                    properties[name] = Schema(random, depth + 1);
                return new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = properties,
                    ["required"] = new JsonArray(names.Where(_ => random.Next(2) == 0).Select(n =>
                        (JsonNode)JsonValue.Create(n)).ToArray()),
                };
        }
    }

    private static JsonObject Also(JsonObject o, string name, int value)
    {
        o[name] = value;
        return o;
    }

    private static IEnumerable<JsonNode?> Values(Random random)
    {
        while (true)
            yield return random.Next(6) switch
            {
                0 => JsonValue.Create("v" + random.Next(100)),
                1 => JsonValue.Create(random.Next(-50, 50)),
                2 => JsonValue.Create(random.Next(2) == 0),
                3 => null,
                4 => JsonValue.Create(random.Next(-1000, 1000) / 8.0),
                _ => new JsonObject { ["k"] = random.Next(3) },
            };
    }

    /// <summary>Draws allowed tokens at random until the end token or the budget; the document's text and whether it
    /// ended.</summary>
    private static (string Text, bool Ended) Sample(GrammarNode grammar, ITokenizer tokenizer, Random random,
        int budget = 4000)
    {
        var end = ChatTemplate.MarkersOf(tokenizer).End;
        var constraint = new GrammarConstraint(grammar, TokenTrie.For(tokenizer), end);
        var ids = new List<int>();
        for (var step = 0; step < budget && !constraint.Ended; step++)
        {
            var allowed = constraint.Allowed();
            var choices = Enumerable.Range(0, allowed.Length).Where(i => allowed[i]).ToArray();
            var token = choices[random.Next(choices.Length)];
            constraint.Advance(token);
            if (token != end)
                ids.Add(token);
        }
        return (tokenizer.Decode(ids), constraint.Ended);
    }

    [Theory]
    [InlineData("char")]
    [InlineData("bpe")]
    public void Every_completion_for_random_schemas_and_seeds_parses_and_validates(string kind)
    {
        ITokenizer tokenizer = kind == "char" ? Chars : Bpe;
        for (var seed = 0; seed < 150; seed++)
        {
            var random = new Random(seed);
            var schemaJson = Schema(random, 0).ToJsonString();
            var (grammar, error) = JsonSchemaGrammar.Compile(JsonDocument.Parse(schemaJson).RootElement);
            Assert.True(grammar is not null, $"seed {seed}: {schemaJson}: {error}");
            var (text, ended) = Sample(grammar!, tokenizer, random);
            Assert.True(ended, $"seed {seed}: {schemaJson} did not end: {text}");
            using var document = JsonDocument.Parse(text);
            var result = JsonSchema.FromText(schemaJson).Evaluate(document.RootElement);
            Assert.True(result.IsValid, $"seed {seed}: {text} does not validate against {schemaJson}");
        }
    }

    [Fact]
    public void Json_object_mode_accepts_any_object_and_nothing_else()
    {
        var grammar = JsonSchemaGrammar.AnyObject;
        Assert.True(Accepts(grammar, "{\"a\":[1,-0.5,{\"b\":null}],\"c\":\"\\u00e9\\n\",\"d\":true}"));
        Assert.True(Accepts(grammar, "{}"));
        Assert.False(Accepts(grammar, "[1]"));
        Assert.False(Accepts(grammar, "{\"a\":01}"));
        Assert.False(Accepts(grammar, "{\"a\":1,}"));
        Assert.False(Accepts(grammar, "{\"a\" :1}")); // compact: no whitespace outside strings
        Assert.False(Accepts(grammar, "{\"a\":\"x\ny\"}")); // a raw control character
        Assert.False(Accepts(grammar, "{\"a\":1}}"));
        Assert.False(Accepts(grammar, "{\"a\":1")); // not finished
    }

    [Fact]
    public void Required_properties_come_before_the_object_closes_and_none_repeats()
    {
        var (grammar, _) = JsonSchemaGrammar.Compile(JsonDocument.Parse("""
            {"type":"object","properties":{"id":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"},
             "maxItems":2}},"required":["id"]}
            """).RootElement);
        Assert.True(Accepts(grammar!, "{\"id\":7}"));
        Assert.True(Accepts(grammar!, "{\"tags\":[\"x\"],\"id\":-3}"));
        Assert.False(Accepts(grammar!, "{\"tags\":[]}"));
        Assert.False(Accepts(grammar!, "{\"id\":7,\"id\":8}"));
        Assert.False(Accepts(grammar!, "{\"id\":7.5}"));
        Assert.False(Accepts(grammar!, "{\"id\":7,\"tags\":[\"a\",\"b\",\"c\"]}"));
        Assert.False(Accepts(grammar!, "{\"id\":7,\"other\":1}"));
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"^a"}""", "schema.pattern")]
    [InlineData("""{"anyOf":[{"type":"string"}]}""", "schema.anyOf")]
    [InlineData("""{"type":["string","null"]}""", "schema.type")]
    [InlineData("""{"type":"object","properties":{"a":{"$ref":"#"}}}""", "schema.properties.a.$ref")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string"}},"required":["b"]}""", "schema.required")]
    public void What_cannot_be_enforced_is_refused_with_its_path(string schema, string path)
    {
        var (grammar, error) = JsonSchemaGrammar.Compile(JsonDocument.Parse(schema).RootElement);
        Assert.Null(grammar);
        Assert.Equal(path, error!.Path);
    }

    [Fact]
    public void Choices_end_the_reply_on_one_of_them()
    {
        var grammar = JsonSchemaGrammar.Choices(["yes", "no", "不知道"]);
        for (var seed = 0; seed < 20; seed++)
        {
            var (text, ended) = Sample(grammar, Bpe, new Random(seed));
            Assert.True(ended);
            Assert.Contains(text, (string[])["yes", "no", "不知道"]);
        }
    }

    private static bool Accepts(GrammarNode grammar, string text)
    {
        var state = GrammarState.Start(grammar);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (state.Feed(b) is not { } next)
                return false;
            state = next;
        }
        return state.CanFinish;
    }
}
