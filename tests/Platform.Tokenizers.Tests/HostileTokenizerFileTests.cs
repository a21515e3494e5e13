using System.Text;
using System.Text.Json.Nodes;

namespace Platform.Tokenizers.Tests;

/// <summary>
/// Tokenizer files are uploaded by users (with a dataset, or with imported weights): a malformed or hostile one must be
/// refused as unusable (the exceptions <see cref="TokenizerFile.IsUnusable"/> names, which the services turn into 400s
/// naming the field), never fail another way, and one that loads must encode and decode.
/// </summary>
public class HostileTokenizerFileTests
{
    private static readonly string Sample = DemoCorpus.Text[..20_000];

    private static byte[] Save(Action<Stream> write)
    {
        using var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }

    private static readonly Lazy<byte[][]> Valid = new(() =>
    [
        Save(s => HuggingFaceTokenizerJson.Write(BpeTrainer.Train([new StringReader(Sample)], 300,
            specialTokens: ["<|endoftext|>"]), s)),
        Save(s => HuggingFaceTokenizerJson.Write(WordPieceTrainer.Train([new StringReader(Sample)], 300), s)),
        Save(s => HuggingFaceTokenizerJson.Write(CharTokenizer.Train([new StringReader(Sample)],
            ["<pad>"]), s)),
    ]);

    /// <summary>Loads, and uses what loaded; the refusal, or null when the file was usable.</summary>
    private static Exception? Outcome(byte[] file)
    {
        try
        {
            var tokenizer = TokenizerFile.Load(new MemoryStream(file));
            var ids = tokenizer.Encode("To be, or not to be");
            tokenizer.Decode(ids);
            return null;
        }
        catch (Exception ex) when (TokenizerFile.IsUnusable(ex))
        {
            return ex;
        }
    }

    private static readonly JsonNode?[] Replacements =
    [
        null, JsonValue.Create(-1), JsonValue.Create(int.MaxValue), JsonValue.Create(long.MaxValue), JsonValue
            .Create(1.5),
        JsonValue.Create(""), JsonValue.Create("x y z"), JsonValue.Create(true), new JsonArray(), new JsonObject(),
        new JsonArray(JsonValue.Create(1), null), new JsonObject { ["a"] = -5 },
    ];

    /// <summary>Every value's path in the document, objects' members and arrays' items alike (arrays: the first
    /// few).</summary>
    private static List<(JsonNode Parent, object Key)> Slots(JsonNode node)
    {
        var slots = new List<(JsonNode, object)>();
        void Walk(JsonNode n)
        {
            if (n is JsonObject o)
                foreach (var (key, value) in o.ToList())
                {
                    slots.Add((o, key));
                    if (value is not null)
                        Walk(value);
                }
            else if (n is JsonArray a)
                for (var i = 0; i < Math.Min(a.Count, 4); i++)
                {
                    slots.Add((a, i));
                    if (a[i] is { } item)
                        Walk(item);
                }
        }
        Walk(node);
        return slots;
    }

    public static IEnumerable<object[]> Mutations()
    {
        // Indices only: the files are built in the test (they depend on a trained tokenizer).
        for (var kind = 0; kind < 3; kind++)
            for (var seed = 0; seed < 90; seed++)
                yield return [kind, seed];
    }

    [Theory]
    [MemberData(nameof(Mutations))]
    public void A_mutated_tokenizer_file_is_refused_as_unusable_or_loads_and_works(int kind, int seed)
    {
        var random = new Random(seed * 31 + kind);
        var original = Valid.Value[kind];
        byte[] file;
        switch (seed % 5)
        {
            case 0:
                // Truncated anywhere.
                file = original[..random.Next(original.Length)];
                break;
            case 1:
                // A few bytes flipped.
                file = (byte[])original.Clone();
                for (var i = 0; i < 1 + random.Next(8); i++)
                    file[random.Next(file.Length)] = (byte)random.Next(256);
                break;
            default:
                // One to three values anywhere replaced by another type, an out-of-range number, or removed.
                var root = JsonNode.Parse(original)!;
                for (var i = 0; i < 1 + random.Next(3); i++)
                {
                    var slots = Slots(root);
                    var (parent, key) = slots[random.Next(slots.Count)];
                    var replacement = Replacements[random.Next(Replacements.Length)]?.DeepClone();
                    if (parent is JsonObject o && random.Next(4) == 0)
                        o.Remove((string)key);
                    else if (parent is JsonObject obj)
                        obj[(string)key] = replacement;
                    else
                        ((JsonArray)parent)[(int)key] = replacement;
                }
                file = Encoding.UTF8.GetBytes(root.ToJsonString());
                break;
        }
        // Any other exception escapes and fails the test.
        Outcome(file);
    }

    [Fact]
    public void Hostile_shapes_are_refused_with_a_reason()
    {
        var bpe = JsonNode.Parse(Valid.Value[0])!;
        var cases = new Dictionary<string, Action<JsonNode>>
        {
            ["null special content"] = n => n["added_tokens"]![0]!["content"] = null,
            ["special without id"] = n => n["added_tokens"]![0]!.AsObject().Remove("id"),
            ["null merge half"] = n => n["model"]!["merges"]!.AsArray()[0] = new JsonArray(null, JsonValue.Create("a")),
            ["merge of unknown tokens"] = n => n["model"]!["merges"]!.AsArray().Add("qqq zzz"),
            ["negative id"] = n => n["model"]!["vocab"]!.AsObject()["neg"] = -3,
            ["huge id"] = n => n["model"]!["vocab"]!.AsObject()["far"] = int.MaxValue,
            ["vocab not an object"] = n => n["model"]!["vocab"] = new JsonArray(1, 2, 3),
            ["model not an object"] = n => n["model"] = "BPE",
        };
        foreach (var (name, edit) in cases)
        {
            var copy = bpe.DeepClone();
            edit(copy);
            var refused = Outcome(Encoding.UTF8.GetBytes(copy.ToJsonString()));
            Assert.True(refused is not null || name == "merge of unknown tokens", $"{name}: loaded");
        }
    }
}
