using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Tokenizers;

/// <summary>
/// Reads and writes byte-level BPE tokenizers in Hugging Face's tokenizer.json layout (model BPE with vocab and
/// merges, ByteLevel pre-tokenizer and decoder, added tokens), which <c>tokenizers.Tokenizer.from_file</c> loads.
/// </summary>
public static class HuggingFaceTokenizerJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = false };

    public static void Write(BpeTokenizer tokenizer, Stream stream)
    {
        var vocab = new JsonObject();
        for (var id = 0; id < tokenizer.Vocabulary.Count; id++)
            if (!tokenizer.SpecialTokens.ContainsKey(tokenizer.Vocabulary[id]))
                vocab[tokenizer.Vocabulary[id]] = id;
        var byteLevel = new JsonObject
        {
            ["type"] = "ByteLevel",
            ["add_prefix_space"] = false,
            ["trim_offsets"] = true,
            ["use_regex"] = true
        };
        WriteEnvelope(stream,
            new JsonArray(tokenizer.SpecialTokens.OrderBy(p => p.Value).Select(p =>
            (JsonNode)AddedToken(p.Value, p.Key)).ToArray()),
            normalizer: null, byteLevel.DeepClone(), byteLevel.DeepClone(), new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(tokenizer.Merges.Select(m =>
                (JsonNode)JsonValue.Create($"{m.Left} {m.Right}")).ToArray()),
            });
    }

    public static void Write(WordPieceTokenizer tokenizer, Stream stream)
    {
        var vocab = new JsonObject();
        for (var id = 0; id < tokenizer.Vocabulary.Count; id++)
            vocab[tokenizer.Vocabulary[id]] = id;
        WriteEnvelope(stream,
            new JsonArray(tokenizer.Vocabulary.Select((t, id) => (t, id)).Where(p => p.t.StartsWith('[')
            && p.t.EndsWith(']'))
                .Select(p => (JsonNode)AddedToken(p.id, p.t)).ToArray()),
            new JsonObject
            {
                ["type"] = "BertNormalizer",
                ["clean_text"] = true,
                ["handle_chinese_chars"] = true,
                ["strip_accents"] = null,
                ["lowercase"] = tokenizer.Lowercase,
            },
            new JsonObject { ["type"] = "BertPreTokenizer" },
            new JsonObject { ["type"] = "WordPiece", ["prefix"] = WordPieceTokenizer.Prefix, ["cleanup"] = true },
            new JsonObject
            {
                ["type"] = "WordPiece",
                ["unk_token"] = WordPieceTokenizer.UnknownToken,
                ["continuing_subword_prefix"] = WordPieceTokenizer.Prefix,
                ["max_input_chars_per_word"] = WordPieceTokenizer.MaxInputCharsPerWord,
                ["vocab"] = vocab,
            });
    }

    /// <summary>
    /// A char tokenizer in Hugging Face terms: every character isolated by a Split pre-tokenizer, looked up in a
    /// WordLevel vocabulary, and fused back together when decoding.
    /// </summary>
    public static void Write(CharTokenizer tokenizer, Stream stream)
    {
        var vocab = new JsonObject();
        for (var id = 0; id < tokenizer.Vocabulary.Count; id++)
            vocab[tokenizer.Vocabulary[id]] = id;
        WriteEnvelope(stream,
            new JsonArray(tokenizer.SpecialTokens.Select((t, id) => (JsonNode)AddedToken(id, t)).ToArray()),
            normalizer: null,
            new JsonObject
            {
                ["type"] = "Split",
                ["pattern"] = new JsonObject { ["Regex"] = CharPattern },
                ["behavior"] = "Isolated",
                ["invert"] = false
            },
            new JsonObject { ["type"] = "Fuse" },
            new JsonObject { ["type"] = "WordLevel", ["vocab"] = vocab, ["unk_token"] = "[UNK]" });
    }

    private const string CharPattern = @"[\s\S]";

    /// <summary>Loads a byte-level BPE, BERT WordPiece or character-level tokenizer.json; anything else is refused with
    /// the reason.</summary>
    public static ITokenizer Read(JsonElement root)
    {
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException("tokenizer.json has no 'model' object.");
        var type = model.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type == "WordPiece")
            return ReadWordPiece(root, model);
        if (type == "WordLevel")
            return ReadCharacterLevel(root, model);
        if (type != "BPE")
            throw new InvalidDataException(
                $"Only BPE and WordPiece tokenizer.json files are supported (model.type is " +
                $"'{type}').");
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || !IsByteLevel(pre))
            throw new InvalidDataException("Only byte-level BPE is supported: pre_tokenizer must be ByteLevel.");
        var byId = ReadVocabulary(model, checkGaps: false);
        var special = new Dictionary<string, int>();
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            foreach (var token in added.EnumerateArray())
            {
                var (id, content) = (token.GetProperty("id").GetInt32(), token.GetProperty("content").GetString()!);
                byId[id] = content;
                special[content] = id;
            }
        if (byId.Count == 0 || byId.Keys.First() != 0 || byId.Keys.Last() != byId.Count - 1)
            throw new InvalidDataException("Token ids must run from 0 without gaps.");

        var merges = new List<(string, string)>();
        if (model.TryGetProperty("merges", out var mergesElement))
            foreach (var merge in mergesElement.EnumerateArray())
            {
                if (merge.ValueKind == JsonValueKind.String && merge.GetString()!.Split(' ') is [var l, var r])
                    merges.Add((l, r));
                else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
                    merges.Add((merge[0].GetString()!, merge[1].GetString()!));
                else
                    throw new InvalidDataException($"Malformed merge {merge}.");
            }
        return new BpeTokenizer(byId.Values.ToList(), merges, special);
    }

    private static CharTokenizer ReadCharacterLevel(JsonElement root, JsonElement model)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object
            || !pre.TryGetProperty("pattern", out var pattern) || !pattern.TryGetProperty("Regex", out var regex)
            || regex.GetString() != CharPattern)
            throw new InvalidDataException("Only character-level WordLevel tokenizer.json files are supported (each " +
                "character split on its own).");
        var vocabulary = ReadVocabulary(model, checkGaps: true).Values.ToList();
        var specials = root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array
            ? added.EnumerateArray().OrderBy(t => t.GetProperty("id").GetInt32()).Select(t =>
            t.GetProperty("content").GetString()!).ToList()
            : [];
        var characters = vocabulary.Skip(specials.Count).ToList();
        if (characters.Any(c => c.EnumerateRunes().Count() != 1))
            throw new InvalidDataException("Every token of a character-level vocabulary must be one character.");
        // Ids follow code-point order in the platform's char tokenizer, after its special tokens; a file in another
        // order is not one of ours.
        var tokenizer = CharTokenizer.FromVocabulary(characters, specials);
        if (!tokenizer.Vocabulary.SequenceEqual(vocabulary))
            throw new InvalidDataException("Character ids must follow code-point order.");
        return tokenizer;
    }

    private static WordPieceTokenizer ReadWordPiece(JsonElement root, JsonElement model)
    {
        var byId = ReadVocabulary(model, checkGaps: true);
        var lowercase = root.TryGetProperty("normalizer", out var normalizer)
            && normalizer.ValueKind == JsonValueKind.Object
            && normalizer.TryGetProperty("lowercase", out var lower) && lower.ValueKind == JsonValueKind.True;
        return new WordPieceTokenizer(byId.Values.ToList(), lowercase);
    }

    /// <summary>model.vocab as id → token; with checkGaps, ids must run from 0 without gaps (BPE checks after adding
    /// its added tokens).</summary>
    private static SortedDictionary<int, string> ReadVocabulary(JsonElement model, bool checkGaps)
    {
        if (!model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException("tokenizer.json model has no 'vocab' object.");
        var byId = new SortedDictionary<int, string>();
        foreach (var entry in vocab.EnumerateObject())
            if (!byId.TryAdd(entry.Value.GetInt32(), entry.Name))
                throw new InvalidDataException($"Id {entry.Value.GetInt32()} is given to two tokens.");
        if (checkGaps && (byId.Count == 0 || byId.Keys.First() != 0 || byId.Keys.Last() != byId.Count - 1))
            throw new InvalidDataException("Token ids must run from 0 without gaps.");
        return byId;
    }

    /// <summary>The parts every tokenizer.json has around its model.</summary>
    private static void WriteEnvelope(Stream stream, JsonArray addedTokens, JsonNode? normalizer, JsonNode preTokenizer,
        JsonNode decoder, JsonObject model)
    {
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = addedTokens,
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = preTokenizer,
            ["post_processor"] = null,
            ["decoder"] = decoder,
            ["model"] = model,
        };
        using var writer = new Utf8JsonWriter(stream);
        root.WriteTo(writer, Indented);
    }

    private static JsonObject AddedToken(int id, string content) => new()
    {
        ["id"] = id,
        ["content"] = content,
        ["single_word"] = false,
        ["lstrip"] = false,
        ["rstrip"] = false,
        ["normalized"] = false,
        ["special"] = true,
    };

    private static bool IsByteLevel(JsonElement pre) =>
        pre.ValueKind == JsonValueKind.Object && pre.TryGetProperty("type", out var type) && type.GetString() switch
        {
            "ByteLevel" => true,
            "Sequence" => pre.TryGetProperty("pretokenizers", out var list) && list.EnumerateArray().Any(IsByteLevel),
            _ => false,
        };
}
