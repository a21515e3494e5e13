using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.ML;
using Platform.Tokenizers;
using Training.Registry.Data;

namespace Training.Registry;

/// <summary>
/// A GPT version as a Hugging Face model folder, zipped: <c>config.json</c> and <c>model.safetensors</c> in GPT-2's
/// names and layout (see <see cref="HuggingFaceGpt2"/>), <c>tokenizer.json</c> as trained,
/// <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>, <c>generation_config.json</c> and a <c>README.md</c>
/// model card. <c>AutoModelForCausalLM.from_pretrained</c> and <c>AutoTokenizer.from_pretrained</c> load the
/// unzipped folder. The weights are written once and kept beside the checkpoint; the small files are written on each
/// download, so the card shows the version's description, tags and aliases as they are now.
/// </summary>
public static class HuggingFaceFolder
{
    // Tokens such as <|endoftext|> stay readable in the files a person opens.
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Why the version has no such folder, or null.</summary>
    public static string? Refusal(ModelVersion v) => v.Architecture != Architectures.Gpt
        ? $"a Hugging Face GPT-2 folder is decoder-only; a {v.Architecture} exports as safetensors."
        : null;

    /// <summary>
    /// The zip, copied to <paramref name="output"/> once built. It is built in a temporary file, deleted when closed,
    /// because ZipArchive flushes each entry with a synchronous write, which Kestrel's response stream refuses. The
    /// weights are stored, not compressed: floats barely compress.
    /// </summary>
    public static async Task WriteAsync(ModelVersion v, IReadOnlyList<string> aliases, string weightsPath,
        string tokenizerPath, Stream output, CancellationToken cancellationToken)
    {
        await using var built = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite,
            FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await BuildAsync(v, aliases, weightsPath, tokenizerPath, built, cancellationToken);
        built.Position = 0;
        await built.CopyToAsync(output, cancellationToken);
    }

    private static async Task BuildAsync(ModelVersion v, IReadOnlyList<string> aliases, string weightsPath,
        string tokenizerPath, Stream output, CancellationToken cancellationToken)
    {
        var tokenizerJson = await File.ReadAllBytesAsync(tokenizerPath, cancellationToken);
        var tokenizer = TokenizerFile.Load(new MemoryStream(tokenizerJson));
        var specials = SpecialTokens.Of(tokenizerJson, tokenizer, v.ChatTemplate);
        var weightsConfig = SafetensorsFile.Open(weightsPath).Metadata["config"];
        var config = JsonNode.Parse(weightsConfig)!.AsObject();
        config["bos_token_id"] = specials.BosId;
        config["eos_token_id"] = specials.EosId;
        var blockSize = config["n_positions"]!.GetValue<int>();

        await using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        await AddAsync(zip, "config.json", config.ToJsonString(Indented), cancellationToken);
        var weights = zip.CreateEntry("model.safetensors", CompressionLevel.NoCompression);
        await using (var entry = await weights.OpenAsync(cancellationToken))
        await using (var file = File.OpenRead(weightsPath))
            await file.CopyToAsync(entry, cancellationToken);
        await AddAsync(zip, "tokenizer.json", tokenizerJson, cancellationToken);
        await AddAsync(zip, "tokenizer_config.json",
            HuggingFaceTokenizerConfig.Write(new MemoryStream(tokenizerJson), v.ChatTemplate, blockSize),
            cancellationToken);
        await AddAsync(zip, "special_tokens_map.json", specials.Map.ToJsonString(Indented), cancellationToken);
        await AddAsync(zip, "generation_config.json", new JsonObject
        {
            ["bos_token_id"] = specials.BosId,
            ["eos_token_id"] = specials.EosId,
            // GPT-2 has no room past its positions: max_length counts the prompt too.
            ["max_length"] = blockSize,
            ["do_sample"] = true,
            ["temperature"] = 1.0,
        }.ToJsonString(Indented), cancellationToken);
        await AddAsync(zip, "README.md", ModelCard.Write(v, aliases, config, tokenizer.Kind), cancellationToken);
    }

    private static Task AddAsync(ZipArchive zip, string name, string text, CancellationToken cancellationToken) =>
        AddAsync(zip, name, Encoding.UTF8.GetBytes(text), cancellationToken);

    private static async Task AddAsync(ZipArchive zip, string name, byte[] bytes, CancellationToken cancellationToken)
    {
        await using var entry = await zip.CreateEntry(name, CompressionLevel.Optimal).OpenAsync(cancellationToken);
        await entry.WriteAsync(bytes, cancellationToken);
    }

    /// <summary>The tokenizer's special tokens in the roles Hugging Face names: the end of a text (or of a chat turn)
    /// is eos and, as in GPT-2, bos too unless the vocabulary has its own start token.</summary>
    private sealed record SpecialTokens(int? BosId, int? EosId, JsonObject Map)
    {
        private static readonly string[] Ends = ["<|endoftext|>", "</s>", "[SEP]"];
        private static readonly string[] Starts = ["<s>", "[CLS]"];
        private static readonly string[] Unknowns = ["[UNK]", "<unk>"];
        private static readonly string[] Pads = ["<pad>", "[PAD]"];
        private static readonly string[] Masks = ["[MASK]", "<mask>"];

        public static SpecialTokens Of(byte[] tokenizerJson, ITokenizer tokenizer, string? chatTemplate)
        {
            var added = (JsonNode.Parse(tokenizerJson)?["added_tokens"]?.AsArray() ?? [])
                .Select(t => t?["content"]?.GetValue<string>()).OfType<string>().ToList();
            string? First(IEnumerable<string> candidates) => candidates.FirstOrDefault(added.Contains);
            var eos = chatTemplate is not null && added.Contains(ChatTemplate.End) ? ChatTemplate.End : First(Ends);
            var bos = First(Starts) ?? eos;
            var map = new JsonObject();
            void Role(string role, string? token)
            {
                if (token is not null)
                    map[role] = token;
            }
            Role("bos_token", bos);
            Role("eos_token", eos);
            Role("unk_token", First(Unknowns));
            Role("pad_token", First(Pads));
            Role("mask_token", First(Masks));
            var named = map.Select(p => p.Value!.GetValue<string>()).ToHashSet();
            var others = added.Where(t => !named.Contains(t)).ToList();
            if (others.Count > 0)
                map["additional_special_tokens"] = new JsonArray([.. others.Select(t => (JsonNode?)t)]);
            return new SpecialTokens(bos is null ? null : tokenizer.SpecialTokenId(bos),
                eos is null ? null : tokenizer.SpecialTokenId(eos), map);
        }
    }
}
