using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Tokenizers;

/// <summary>
/// Hugging Face's tokenizer_config.json for a saved tokenizer.json: its added tokens by id, the class that loads the
/// tokenizer.json as it is, and, for a version trained on conversations, its chat template (which
/// <c>apply_chat_template</c> renders) with the end marker as the end-of-sequence token.
/// </summary>
public static class HuggingFaceTokenizerConfig
{
    public static JsonObject For(Stream tokenizerJson, string? chatTemplate, int? modelMaxLength = null)
    {
        var tokenizer = JsonNode.Parse(tokenizerJson)?.AsObject()
            ?? throw new InvalidDataException("The tokenizer file is empty.");
        var added = new JsonObject();
        foreach (var token in tokenizer["added_tokens"]?.AsArray() ?? [])
        {
            var entry = token!.DeepClone().AsObject();
            var id = entry["id"]!.GetValue<int>();
            entry.Remove("id");
            added[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = entry;
        }
        var config = new JsonObject
        {
            ["added_tokens_decoder"] = added,
            ["clean_up_tokenization_spaces"] = false,
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
        };
        if (modelMaxLength is { } length)
            config["model_max_length"] = length;
        if (chatTemplate is not null)
        {
            config["chat_template"] = chatTemplate;
            config["eos_token"] = ChatTemplate.End;
        }
        return config;
    }

    public static string Write(Stream tokenizerJson, string? chatTemplate, int? modelMaxLength = null) =>
        For(tokenizerJson, chatTemplate,
            modelMaxLength).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
