using System.Text;
using System.Text.Json;

namespace Platform.Tokenizers.Structured;

/// <summary>Where a schema cannot be enforced: the path of the keyword at fault, and why.</summary>
public sealed record SchemaError(string Path, string Reason)
{
    public override string ToString() => $"{Path} {Reason}";
}

/// <summary>What a value must be, compiled from a JSON schema (or "any JSON value").</summary>
public abstract record GrammarNode;

/// <summary>Any JSON value (json_object mode's values, and the values of an object without listed
/// properties).</summary>
public sealed record AnyNode : GrammarNode
{
    public static readonly AnyNode Instance = new();
}

/// <summary>An object with the listed properties only, each at most once; the required ones before it
/// closes. Without properties (<see cref="Open"/>), any keys with any values.</summary>
public sealed record ObjectNode(IReadOnlyList<byte[]> Keys, IReadOnlyList<GrammarNode> Values, ulong Required,
    bool Open) : GrammarNode;

public sealed record ArrayNode(GrammarNode Items, int MinItems, int MaxItems) : GrammarNode;

/// <summary>A string of <see cref="MinLength"/> to <see cref="MaxLength"/> characters (an escape counts as
/// one).</summary>
public sealed record StringNode(int MinLength, int MaxLength) : GrammarNode;

public sealed record NumberNode(bool Integer) : GrammarNode;

/// <summary>One of the given byte strings exactly (true/false, null, an enum's values, or raw choices).</summary>
public sealed record LiteralNode(IReadOnlyList<byte[]> Options) : GrammarNode;

/// <summary>
/// A JSON schema as a grammar over bytes. Supported: type object (properties, required; additionalProperties is
/// false in effect when properties are listed), array (items, minItems, maxItems), string (minLength, maxLength),
/// number, integer, boolean, null, enum and const, nested to any depth. Output is compact (no whitespace outside
/// strings); numbers have at most 16 integer and 8 fraction digits and no exponent, so every number written parses
/// exactly. Anything else that constrains a value (pattern, anyOf, $ref, a type list…) is refused, with the path of
/// the keyword, rather than ignored.
/// </summary>
public static class JsonSchemaGrammar
{
    public const int MaxProperties = 64, MaxEnumValues = 64, MaxDepth = 32;

    private static readonly HashSet<string> Annotations =
        ["title", "description", "default", "examples", "$schema", "$id", "$comment", "additionalProperties",
            "strict", "format"];

    /// <summary>Any JSON object (OpenAI's json_object mode).</summary>
    public static GrammarNode AnyObject { get; } = new ObjectNode([], [], 0, Open: true);

    /// <summary>One of the given strings, written as they are (not as JSON): the choice extension.</summary>
    public static GrammarNode Choices(IEnumerable<string> choices) =>
        new LiteralNode(choices.Select(Encoding.UTF8.GetBytes).ToList());

    /// <summary>
    /// Text holding every character a document of <paramref name="node"/> may need to write (its punctuation, keys
    /// and literals, and a digit): a tokenizer that cannot encode it (a char vocabulary without '{', say) cannot write
    /// the document.
    /// </summary>
    public static string RequiredText(GrammarNode node)
    {
        var text = new StringBuilder();
        void Add(GrammarNode n)
        {
            switch (n)
            {
                case AnyNode:
                    text.Append("{}[],:\"0-.truefalsenull");
                    break;
                case ObjectNode o:
                    text.Append("{}:,\"");
                    foreach (var key in o.Keys)
                        text.Append(Encoding.UTF8.GetString(key));
                    if (o.Open)
                        Add(AnyNode.Instance);
                    foreach (var value in o.Values)
                        Add(value);
                    break;
                case ArrayNode a:
                    text.Append("[],");
                    Add(a.Items);
                    break;
                case StringNode:
                    text.Append('"');
                    break;
                case NumberNode:
                    text.Append('0');
                    break;
                case LiteralNode l:
                    foreach (var option in l.Options)
                        text.Append(Encoding.UTF8.GetString(option));
                    break;
            }
        }
        Add(node);
        return string.Concat(text.ToString().Distinct());
    }

    /// <summary>The grammar of a schema, or why it cannot be enforced (the path of the fault and the
    /// reason).</summary>
    public static (GrammarNode? Node, SchemaError? Error) Compile(JsonElement schema, string path = "schema")
    {
        try
        {
            return (Node(schema, path, 0), null);
        }
        catch (SchemaException ex)
        {
            var at = ex.Message.IndexOf(' ', StringComparison.Ordinal);
            return (null, new SchemaError(ex.Message[..at], ex.Message[(at + 1)..]));
        }
    }

    private sealed class SchemaException(string message) : Exception(message);

    private static GrammarNode Node(JsonElement schema, string path, int depth)
    {
        if (depth > MaxDepth)
            throw new SchemaException($"{path} nests deeper than {MaxDepth} levels.");
        if (schema.ValueKind != JsonValueKind.Object)
            throw new SchemaException($"{path} must be a schema object.");
        foreach (var property in schema.EnumerateObject())
            if (!Annotations.Contains(property.Name) && property.Name is not ("type" or "properties" or "required"
                    or "items" or "minItems" or "maxItems" or "minLength" or "maxLength" or "enum" or "const"))
                throw new SchemaException($"{path}.{property.Name} is not supported: structured output enforces " +
                    "type, properties, required, items, minItems, maxItems, minLength, maxLength, enum and const.");

        if (schema.TryGetProperty("const", out var constant))
            return new LiteralNode([Compact(constant)]);
        if (schema.TryGetProperty("enum", out var values))
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() is 0 or > MaxEnumValues)
                throw new SchemaException($"{path}.enum must be an array of 1 to {MaxEnumValues} values.");
            return new LiteralNode(values.EnumerateArray().Select(Compact).Distinct(new BytesComparer()).ToList());
        }
        if (!schema.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            throw new SchemaException($"{path}.type must be one of object, array, string, number, integer, boolean, " +
                "null (or give enum or const).");
        return type.GetString() switch
        {
            "object" => Object(schema, path, depth),
            "array" => new ArrayNode(
                schema.TryGetProperty("items", out var items) ? Node(items, path + ".items", depth + 1)
                    : AnyNode.Instance,
                Count(schema, "minItems", path, 0), Count(schema, "maxItems", path, int.MaxValue)) is var array
                && array.MinItems > array.MaxItems
                    ? throw new SchemaException($"{path}.minItems is above maxItems.")
                    : array,
            "string" => new StringNode(Count(schema, "minLength", path, 0), Count(schema, "maxLength", path,
                int.MaxValue)) is var text && text.MinLength > text.MaxLength
                ? throw new SchemaException($"{path}.minLength is above maxLength.")
                : text,
            "number" => new NumberNode(Integer: false),
            "integer" => new NumberNode(Integer: true),
            "boolean" => new LiteralNode(["true"u8.ToArray(), "false"u8.ToArray()]),
            "null" => new LiteralNode(["null"u8.ToArray()]),
            var other => throw new SchemaException($"{path}.type '{other}' is not a JSON schema type."),
        };
    }

    private static ObjectNode Object(JsonElement schema, string path, int depth)
    {
        if (!schema.TryGetProperty("properties", out var properties))
            return new ObjectNode([], [], 0, Open: true);
        if (properties.ValueKind != JsonValueKind.Object)
            throw new SchemaException($"{path}.properties must be an object.");
        var names = properties.EnumerateObject().Select(p => p.Name).ToList();
        if (names.Count > MaxProperties)
            throw new SchemaException($"{path}.properties lists more than {MaxProperties}.");
        var keys = names.Select(n => Compact(JsonSerializer.SerializeToElement(n))[1..]).ToList(); // after the '"'
        var nodes = properties.EnumerateObject().Select(p => Node(p.Value, $"{path}.properties.{p.Name}", depth + 1))
            .ToList();
        ulong required = 0;
        if (schema.TryGetProperty("required", out var list))
        {
            if (list.ValueKind != JsonValueKind.Array || list.EnumerateArray().Any(e => e.ValueKind !=
                    JsonValueKind.String))
                throw new SchemaException($"{path}.required must be an array of property names.");
            foreach (var name in list.EnumerateArray().Select(e => e.GetString()!))
            {
                var index = names.IndexOf(name);
                if (index < 0)
                    throw new SchemaException($"{path}.required names '{name}', which is not among its properties.");
                required |= 1UL << index;
            }
        }
        return new ObjectNode(keys, nodes, required, Open: false);
    }

    private static int Count(JsonElement schema, string name, string path, int absent) =>
        !schema.TryGetProperty(name, out var value) ? absent
        : value.TryGetInt32(out var count) && count >= 0 ? count
        : throw new SchemaException($"{path}.{name} must be a non-negative integer.");

    private static readonly JsonSerializerOptions Relaxed = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static byte[] Compact(JsonElement value) => JsonSerializer.SerializeToUtf8Bytes(value, Relaxed);

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] obj) => obj.Length == 0 ? 0 : HashCode.Combine(obj.Length, obj[0], obj[^1]);
    }
}
